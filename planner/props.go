package planner

import (
	"strings"
)

// Props are the session properties merged over the engine's defaults, keyed
// by their ksqlDB names. The planner reads only the keys below; everything
// else is passed through to the runtime by the engine.
type Props map[string]string

// Property names the planner reads.
const (
	PropWrapSingleValues  = "ksql.persistence.wrap.single.values"
	PropDefaultKeyFormat  = "ksql.persistence.default.format.key"
	PropDefaultValFormat  = "ksql.persistence.default.format.value"
	PropOutputTopicPrefix = "ksql.output.topic.name.prefix"
	PropSinkPartitions    = "ksql.sink.partitions"
	PropAutoOffsetReset   = "auto.offset.reset"
)

// get returns the trimmed value of key and whether it is set to a non-empty
// value. A nil Props has nothing set.
func (p Props) get(key string) (string, bool) {
	if p == nil {
		return "", false
	}
	v, ok := p[key]
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// defaultKeyFormat is ksqlDB's default for KEY_FORMAT: the property when set,
// else KAFKA. An explicitly empty property means "no default" in ksqlDB, but
// sluice's engine always fills defaults, so empty is treated as unset.
func (p Props) defaultKeyFormat() string {
	if v, ok := p.get(PropDefaultKeyFormat); ok {
		return strings.ToUpper(v)
	}
	return "KAFKA"
}

// defaultValueFormat returns ksql.persistence.default.format.value, which
// has no default: without it VALUE_FORMAT is mandatory.
func (p Props) defaultValueFormat() (string, bool) {
	v, ok := p.get(PropDefaultValFormat)
	return strings.ToUpper(v), ok
}

// wrapSingleValues returns ksql.persistence.wrap.single.values when set.
func (p Props) wrapSingleValues() (wrap, ok bool) {
	v, ok := p.get(PropWrapSingleValues)
	if !ok {
		return false, false
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
