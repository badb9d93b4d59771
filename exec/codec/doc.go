// Package codec serializes keys and values of Kafka records in ksqlDB's
// formats (JSON, DELIMITED, KAFKA, NONE), decoding bytes straight into Arrow
// builders and encoding rows of Arrow arrays back to bytes, byte-compatible
// with ksqlDB and Kafka Streams (windowed keys included).
package codec
