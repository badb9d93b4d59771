// Package clients holds end-to-end tests that drive sluice with the real
// client programs users have: psql over the Postgres wire protocol and kcat
// over the Kafka protocol of the embedded broker.
//
// The tests skip when a binary is missing, unless SLUICE_REQUIRE_CLIENTS is
// set (scripts/test.sh sets it after installing postgresql-client and kcat),
// in which case a missing binary fails them.
package clients
