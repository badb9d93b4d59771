package server

import (
	"strings"

	"github.com/sluicedb/sluice/server/pgcatalog"
)

// Function signatures for pg_proc. The engine describes an overload as
// text, "NAME(ARG, ARG...) -> RESULT", in ksqlDB's type names (DESCRIBE
// FUNCTION's "Variation" rows); psql's \df shows argument and result types
// from pg_proc's type OIDs, so each signature is translated here.
//
// Types map as for columns (pgTypeOf), with these differences, because a
// signature is read by a person choosing a function rather than by a driver
// decoding values:
//
//   - ARRAY<X> of a scalar X is X's Postgres array type (text[],
//     integer[]), not json; ARRAY<T> of a type variable is anyarray.
//   - Type variables (T, K, V, S, U, ...: single capital letters) are
//     anyelement, as Postgres' polymorphic functions declare them.
//   - ANY and LAMBDA are "any": Postgres has no lambda type, and "any" is
//     its pseudo-type for an argument it does not type-check.
//   - A result computed from the arguments ("?": the precision of a DECIMAL
//     result, ENTRIES' struct) is numeric when a parameter is DECIMAL, and
//     anyelement otherwise.
//   - A variadic last parameter X... is VARIADIC X[] (anyarray for T...,
//     "any" when X has no array type), as in a Postgres declaration.

// parseSignature translates one signature. It reports false for text that
// is not of the form above; the function is then listed without it.
func parseSignature(s string) (pgcatalog.Signature, bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 {
		return pgcatalog.Signature{}, false
	}
	close := matchingParen(s, open)
	if close < 0 {
		return pgcatalog.Signature{}, false
	}
	result, ok := strings.CutPrefix(strings.TrimSpace(s[close+1:]), "->")
	if !ok {
		return pgcatalog.Signature{}, false
	}
	result = strings.TrimSpace(result)
	var sig pgcatalog.Signature
	params := splitTopLevel(s[open+1 : close])
	decimalParam := false
	for i, p := range params {
		elem, variadic := strings.CutSuffix(p, "...")
		if variadic && i != len(params)-1 {
			return pgcatalog.Signature{}, false
		}
		if baseTypeName(elem) == "DECIMAL" {
			decimalParam = true
		}
		oid := sigTypeOID(elem)
		if variadic {
			sig.Variadic = true
			oid = variadicArray(oid)
		}
		sig.Args = append(sig.Args, oid)
	}
	switch {
	case result == "?" && decimalParam:
		sig.Result = pgcatalog.OIDNumeric
	case result == "?":
		sig.Result = pgcatalog.OIDAnyElement
	default:
		sig.Result = sigTypeOID(result)
	}
	return sig, true
}

// sigTypeOID maps one ksqlDB type of a signature to a Postgres type.
func sigTypeOID(t string) uint32 {
	t = strings.TrimSpace(t)
	if isTypeVariable(t) {
		return pgcatalog.OIDAnyElement
	}
	switch base := baseTypeName(t); base {
	case "ANY", "LAMBDA":
		return pgcatalog.OIDAny
	case "ARRAY":
		elem, ok := typeArgs(t)
		if !ok || len(elem) != 1 {
			return oidJSON
		}
		if isTypeVariable(elem[0]) {
			return pgcatalog.OIDAnyArray
		}
		if a := pgcatalog.ArrayOf(sigTypeOID(elem[0])); a != 0 {
			return a
		}
		return oidJSON
	}
	return pgTypeOf(t).OID
}

// variadicArray is the declared type of a VARIADIC parameter whose
// elements have type elem.
func variadicArray(elem uint32) uint32 {
	switch elem {
	case pgcatalog.OIDAnyElement:
		return pgcatalog.OIDAnyArray
	case pgcatalog.OIDAny:
		return pgcatalog.OIDAny
	}
	if a := pgcatalog.ArrayOf(elem); a != 0 {
		return a
	}
	return pgcatalog.OIDAny
}

// isTypeVariable reports whether t names a type variable of a generic
// signature: ksqlDB spells them as single capital letters.
func isTypeVariable(t string) bool {
	return len(t) == 1 && t[0] >= 'A' && t[0] <= 'Z'
}

// baseTypeName is a type's name without its parameters: "ARRAY" for
// "ARRAY<STRING>", "DECIMAL" for "DECIMAL(10, 2)".
func baseTypeName(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.IndexAny(t, "<("); i >= 0 {
		t = t[:i]
	}
	return strings.ToUpper(strings.TrimSpace(t))
}

// typeArgs returns the parameters between a type's angle brackets.
func typeArgs(t string) ([]string, bool) {
	open := strings.IndexByte(t, '<')
	if open < 0 || !strings.HasSuffix(t, ">") {
		return nil, false
	}
	return splitTopLevel(t[open+1 : len(t)-1]), true
}

// matchingParen returns the index of the ')' closing the '(' at open, or
// -1.
func matchingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTopLevel splits a parameter list at the commas outside <> and (),
// trimming each part; an empty list has no parts.
func splitTopLevel(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}
