package expr

import (
	"net/url"
	"strconv"
	"strings"
)

// URL functions. Go's net/url parses more leniently than java.net.URI; an
// unparseable URL is a row error in both.

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func init() {
	const cat = "URL"
	part := func(name, desc string, f func(u *url.URL) any) {
		reg(name, cat, desc, sig("STRING -> STRING", func(a []any) (any, error) {
			u, err := parseURL(str(a[0]))
			if err != nil {
				return nil, err
			}
			return f(u), nil
		}))
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	part("URL_EXTRACT_PROTOCOL", "Scheme of a URL.", func(u *url.URL) any { return orNil(u.Scheme) })
	part("URL_EXTRACT_HOST", "Host of a URL.", func(u *url.URL) any { return orNil(u.Hostname()) })
	part("URL_EXTRACT_PATH", "Decoded path of a URL.", func(u *url.URL) any { return u.Path })
	part("URL_EXTRACT_QUERY", "Decoded query of a URL.", func(u *url.URL) any {
		q, err := url.QueryUnescape(u.RawQuery)
		if err != nil {
			return orNil(u.RawQuery)
		}
		return orNil(q)
	})
	part("URL_EXTRACT_FRAGMENT", "Decoded fragment of a URL.", func(u *url.URL) any { return orNil(u.Fragment) })
	reg("URL_EXTRACT_PORT", cat, "Port of a URL.", sig("STRING -> INT", func(a []any) (any, error) {
		u, err := parseURL(str(a[0]))
		if err != nil {
			return nil, err
		}
		p, err := strconv.Atoi(u.Port())
		if err != nil {
			return nil, nil
		}
		return int32(p), nil
	}))
	reg("URL_EXTRACT_PARAMETER", cat, "Value of the first query parameter with the name.", sig("STRING, STRING -> STRING", func(a []any) (any, error) {
		u, err := parseURL(str(a[0]))
		if err != nil {
			return nil, err
		}
		q, err := url.QueryUnescape(u.RawQuery)
		if err != nil {
			q = u.RawQuery
		}
		for _, kv := range strings.Split(q, "&") {
			k, v, hasEq := strings.Cut(kv, "=")
			if k == str(a[1]) {
				if !hasEq {
					return "", nil
				}
				return v, nil
			}
		}
		return nil, nil
	}))
	reg("URL_ENCODE_PARAM", cat, "Form-encodes a query parameter value.", sig("STRING -> STRING", func(a []any) (any, error) {
		return url.QueryEscape(str(a[0])), nil
	}))
	reg("URL_DECODE_PARAM", cat, "Decodes a form-encoded query parameter value.", sig("STRING -> STRING", func(a []any) (any, error) {
		return url.QueryUnescape(str(a[0]))
	}))
}
