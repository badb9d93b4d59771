package nexmark

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Query is one Nexmark query in sluice's dialect.
type Query struct {
	// Name is "q0" ... "q8", or "enrich".
	Name string
	// SQL is the query's script: possibly several statements, the last of
	// which writes OutputTopic.
	SQL string
	// Inputs are the kinds of events the query reads; the benchmark counts
	// the records of these topics as the query's events.
	Inputs []Kind
	// OutputTopic is the topic of the query's final result.
	OutputTopic string
}

// queryInputs lists the queries and what they read; q6 is absent because
// the dialect has no OVER (PARTITION BY ... ROWS n PRECEDING) windows.
var queryInputs = map[string][]Kind{
	"q0": {KindBid},
	"q1": {KindBid},
	"q2": {KindBid},
	"q3": {KindPerson, KindAuction},
	"q4": {KindAuction, KindBid},
	"q5": {KindBid},
	"q7": {KindBid},
	"q8": {KindPerson, KindAuction},
	// enrich is not a Nexmark query: the stream-table enrichment of the
	// README (bids joined to their auctions), beside the standard ones.
	"enrich": {KindAuction, KindBid},
}

// Sources returns the DDL that declares the person, auction and bid streams.
func Sources() string { return mustRead("sources.sql") }

// QueryNames returns the names of the available queries in order.
func QueryNames() []string {
	names := make([]string, 0, len(queryInputs))
	for n := range queryInputs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupQuery returns the query called name ("q1", case-insensitive).
func LookupQuery(name string) (Query, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	in, ok := queryInputs[name]
	if !ok {
		if name == "q6" {
			return Query{}, fmt.Errorf("nexmark q6 is not expressible in ksqlDB's dialect (it needs an OVER window of the last 10 auctions per seller)")
		}
		return Query{}, fmt.Errorf("unknown nexmark query %q (have %s)", name, strings.Join(QueryNames(), ", "))
	}
	return Query{Name: name, SQL: mustRead(name + ".sql"), Inputs: in, OutputTopic: "nexmark-" + name}, nil
}

func mustRead(file string) string {
	b, err := sqlFiles.ReadFile("sql/" + file)
	if err != nil {
		// The files are embedded at build time; a missing one is a bug in
		// this package, not a runtime condition.
		panic("nexmark: " + err.Error())
	}
	return string(b)
}
