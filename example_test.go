package sluice_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/sluicedb/sluice"
)

// This example embeds sluice with its own Kafka-protocol broker, declares a
// stream, inserts rows and reads them back with a push query.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sluice-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	eng, err := sluice.Open(ctx,
		sluice.WithDataDir(dir),
		sluice.WithKafkaAddr("127.0.0.1:0"), // any free port
		sluice.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	_, err = eng.Exec(ctx, `
		CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE)
		  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);
		INSERT INTO orders (id, item, amount) VALUES (1, 'book', 12.5);
		INSERT INTO orders (id, item, amount) VALUES (2, 'pen', 1.25);
	`)
	if err != nil {
		log.Fatal(err)
	}

	s := eng.NewSession()
	if _, err := s.Exec(ctx, `SET 'auto.offset.reset'='earliest';`); err != nil {
		log.Fatal(err)
	}
	rows, err := s.Query(ctx, `SELECT id, UCASE(item) AS item, amount * 2 AS twice FROM orders EMIT CHANGES LIMIT 2;`)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		fmt.Println(rows.Row().Values...)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1 BOOK 25
	// 2 PEN 2.5
}
