// Package nexmark generates the Nexmark benchmark's event stream and holds
// the Nexmark queries written in sluice's SQL dialect (ksqlDB's).
//
// Nexmark models an online auction house: a stream of Person, Auction and
// Bid events in the proportions 1:3:46. The generator is deterministic: event
// n depends only on the Config and n, never on the events before it, so
// loaders can generate in any order or in parallel and two runs with the same
// seed produce byte-identical topics.
//
// # Shape of the stream
//
//   - Event n is a Person when n%50 == 0, an Auction when n%50 is 1..3 and a
//     Bid otherwise. Person and auction ids are dense and increasing
//     (FirstPersonID, FirstAuctionID + the number of earlier events of the
//     kind), so an id is always known from n alone.
//   - Bids go to one of the InFlightAuctions most recent auctions and come
//     from one of the ActivePeople most recent persons; a share of them go
//     to a "hot" auction and come from a "hot" bidder, as in the reference
//     generator, so that aggregations see skew.
//   - Event time advances by 1/Rate seconds per event from BaseTime. An
//     auction's lifetime is random, up to twice the time it takes for
//     InFlightAuctions new auctions to appear, which is what keeps about that
//     many auctions open.
//
// # On Kafka
//
// Each kind goes to its own topic (TopicPerson, TopicAuction, TopicBid) as a
// JSON object with Nexmark's field names. Persons and auctions carry their
// id as the record key in the KAFKA format (8 bytes, big-endian), so they can
// be read as ksqlDB TABLEs keyed by id (q3 needs that); bids have no key.
// The record timestamp is the event's dateTime.
//
// # Queries
//
// Queries returns the SQL of q0-q8 (no q6: ksqlDB's dialect has no
// per-row OVER windows), and Sources the DDL declaring the three streams.
// Each query is a script whose last statement writes topic "nexmark-<qN>";
// where the dialect forced a rewrite of the standard text, the file says so
// in a comment.
package nexmark
