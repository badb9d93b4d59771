package clients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicedb/sluice/server"
)

func (s *stack) pgxConfig(t *testing.T, extra string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=sluice dbname=sluice sslmode=disable %s", s.pgHost, s.pgPort, extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPgx drives the engine with pgx in its simple mode and in its default
// extended mode (prepared statements, binary formats, described
// parameters): DDL, INSERT with parameters, a pull query with a parameter,
// Postgres settings, catalog functions, and a push query read row by row.
func TestPgx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startStack(t, ctx)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := s.pgxConfig(t, "")
			cfg.DefaultQueryExecMode = mode
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(ctx)
			name := "readings_simple"
			if mode == pgx.QueryExecModeCacheStatement {
				name = "readings_extended"
			}
			if _, err := conn.Exec(ctx, "CREATE STREAM "+name+" (id INT KEY, sensor STRING, temp DOUBLE, ok BOOLEAN) "+
				"WITH (KAFKA_TOPIC='"+name+"', VALUE_FORMAT='JSON', PARTITIONS=1)"); err != nil {
				t.Fatalf("CREATE STREAM: %v", err)
			}
			// pgx's simple mode interpolates parameters itself, as quoted
			// strings for every type ('1', '2.5', 'true'); the server types
			// them by the columns they meet, as Postgres types its untyped
			// literals, so both modes run the same statements.
			for i := 1; i <= 3; i++ {
				if _, err := conn.Exec(ctx, "INSERT INTO "+name+" (id, sensor, temp, ok) VALUES ($1, $2, $3, $4)",
					int32(i), fmt.Sprintf("s-'%d'", i), float64(i)+0.5, i%2 == 1); err != nil {
					t.Fatalf("INSERT %d: %v", i, err)
				}
			}
			var sensor string
			var temp float64
			var ok bool
			if err := conn.QueryRow(ctx, "SELECT sensor, temp, ok FROM "+name+" WHERE id = $1", int32(2)).
				Scan(&sensor, &temp, &ok); err != nil {
				t.Fatalf("pull query: %v", err)
			}
			if sensor != "s-'2'" || temp != 2.5 || ok {
				t.Errorf("pull query = %q %v %v, want s-'2' 2.5 false", sensor, temp, ok)
			}

			var tz, version, db, schema string
			if err := conn.QueryRow(ctx, "SHOW TimeZone").Scan(&tz); err != nil || tz != "UTC" {
				t.Errorf("SHOW TimeZone = %q, %v", tz, err)
			}
			if err := conn.QueryRow(ctx, "SELECT version(), current_database(), current_schema()").
				Scan(&version, &db, &schema); err != nil || !strings.Contains(version, "sluice") || db != "sluice" || schema != "public" {
				t.Errorf("version() etc. = %q %q %q, %v", version, db, schema, err)
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = '"+name+"'").
				Scan(&n); err != nil || n != 4 {
				t.Errorf("information_schema.columns count = %d, %v; want 4", n, err)
			}

			// A push query: rows arrive one by one while it runs.
			if _, err := conn.Exec(ctx, "SET 'auto.offset.reset'='earliest'"); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, "SELECT id, temp FROM "+name+" EMIT CHANGES LIMIT 3")
			if err != nil {
				t.Fatalf("push query: %v", err)
			}
			var ids []int32
			for rows.Next() {
				var id int32
				var tmp float64
				if err := rows.Scan(&id, &tmp); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			if err := rows.Err(); err != nil || fmt.Sprint(ids) != "[1 2 3]" {
				t.Errorf("push query ids = %v, %v", ids, err)
			}
		})
	}
}

// TestSCRAMAndTLS connects over TLS (sslmode=require) with SCRAM-SHA-256
// and with a clear-text password, and checks that a wrong password and a
// connection without TLS are refused.
func TestSCRAMAndTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name, cred, err := server.ParseUser("alice:s3cret")
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []server.AuthMethod{server.AuthSCRAM, server.AuthPassword} {
		t.Run(string(method), func(t *testing.T) {
			s := startStackWith(t, ctx, server.Config{
				Auth: method, Users: map[string]server.Credential{name: cred},
				TLS: selfSigned(t), RequireTLS: true,
			})
			connect := func(params string) error {
				cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s dbname=sluice %s", s.pgHost, s.pgPort, params))
				if err != nil {
					return err
				}
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				var user string
				return conn.QueryRow(ctx, "SELECT current_user").Scan(&user)
			}
			if err := connect("user=alice password=s3cret sslmode=require"); err != nil {
				t.Errorf("good password over TLS: %v", err)
			}
			if err := connect("user=alice password=wrong sslmode=require"); err == nil || !strings.Contains(err.Error(), "28P01") {
				t.Errorf("wrong password: want 28P01, got %v", err)
			}
			if err := connect("user=mallory password=s3cret sslmode=require"); err == nil || !strings.Contains(err.Error(), "28P01") {
				t.Errorf("unknown user: want 28P01, got %v", err)
			}
			if err := connect("user=alice password=s3cret sslmode=disable"); err == nil {
				t.Errorf("plain connection to a server that requires TLS succeeded")
			}
		})
	}
}

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
