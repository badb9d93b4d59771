// Package e2e tests the engine end to end through its public Go API, on the
// real embedded Kafka-protocol broker (kfake with on-disk persistence) and
// real Pebble: DDL, persistent queries, push queries, bad records, bad SQL,
// and restarts.
package e2e
