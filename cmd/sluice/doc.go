// Command sluice runs the sluice streaming SQL engine.
//
//	sluice serve [flags]   run the engine with its Postgres server
//	sluice version         print the version
//	sluice help            print usage
//
// serve opens the engine (with the embedded Kafka broker unless --brokers is
// given), binds the Postgres listener, and runs until SIGINT or SIGTERM, on
// which it closes the Postgres server (ending push queries and sessions)
// and then the engine (committing what the persistent queries processed)
// and exits 0. A second signal during shutdown kills the process.
//
// The command is a client of the root package's embedding API and of
// package server; it never reaches into planner, exec or storage.
package main
