// Package tests holds sluice's whole-system tests: the import-direction lint
// (arch_test.go), end-to-end engine tests (package tests/e2e), real-client
// tests with psql and kcat (tests/clients), process-level crash and
// scale-out tests (tests/crash, tests/scaleout) and the ksqlDB conformance
// runner (tests/qtt).
package tests
