package gocqlv2_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/gocqlv2"
)

// Connect with a bundle and a password, and tell the failure classes
// apart.
func ExampleConnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := loader.Open("scb.zip", loader.Options{})
	if err != nil {
		log.Fatal(err) // *loader.Error: which stage rejected the bundle, and why
	}
	session, err := gocqlv2.Connect(ctx, b, gocqlv2.WithPassword("app", os.Getenv("CASSANDRA_PASSWORD")))
	var ce *loader.ConnectError
	switch {
	case errors.Is(err, loader.ErrExpired):
		log.Fatalf("renew the bundle: %v", err)
	case errors.As(err, &ce):
		log.Fatalf("%v\nhint: %s", err, ce.Hint())
	case err != nil:
		log.Fatal(err)
	}
	defer session.Close()
	var version string
	if err := session.Query("SELECT release_version FROM system.local").ScanContext(ctx, &version); err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected to Cassandra", version)
}

// Keep a long-running service connected across certificate renewals: when
// the bundle file is replaced, new connections use the new certificate.
func ExampleConnect_watch() {
	w, err := loader.Watch("/etc/myapp/scb.zip", loader.WatchOptions{
		Interval:      time.Minute,
		ExpiryWarning: 14 * 24 * time.Hour,
		Logger:        slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	session, err := gocqlv2.Connect(context.Background(), w, gocqlv2.WithPassword("", os.Getenv("CASSANDRA_PASSWORD")))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
}
