package loader_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/loader"
)

// Open a bundle and look at what it gives a client.
func Example_open() {
	// A bundle to open: in real life it comes from `scb generate`.
	dir, _ := os.MkdirTemp("", "scb-example")
	defer os.RemoveAll(dir)
	authority, _ := ca.New(ca.Config{})
	sb, err := scb.Build(context.Background(), scb.Request{
		ClusterName: "prod-east", ClientID: "billing", CA: authority,
		ContactPoints: []string{"10.0.0.5", "10.0.0.6"}, LocalDatacenter: "dc1",
		Credentials: &scb.Credentials{Username: "billing_app", Password: "only-in-config.json"},
	})
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "scb.zip")
	if err := sb.WriteFile(path, scb.WriteOptions{}, false); err != nil {
		log.Fatal(err)
	}

	b, err := loader.Open(path, loader.Options{})
	switch {
	case errors.Is(err, loader.ErrExpired):
		log.Fatalf("the bundle has expired, get a new one: %v", err)
	case errors.Is(err, scb.ErrDigestMismatch):
		log.Fatalf("the bundle was modified: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	eps := b.Endpoints()
	fmt.Println("contact points:", eps.ContactPoints)
	fmt.Println("local datacenter:", eps.LocalDatacenter)
	fmt.Println("username:", b.Username())
	fmt.Println("consistency:", b.Params().Consistency)
	tc := b.TLSConfig() // for any TLS client; the gocql adapters use it for you
	fmt.Println("min TLS:", tls12or13(tc.MinVersion), "hostname verification:", b.HostnameVerification())
	// Output:
	// contact points: [10.0.0.5:9042 10.0.0.6:9042]
	// local datacenter: dc1
	// username: billing_app
	// consistency: LOCAL_QUORUM
	// min TLS: 1.2 hostname verification: true
}

func tls12or13(v uint16) string {
	if v == 0x0304 {
		return "1.3"
	}
	return "1.2"
}

// Open a bundle whose client key is encrypted, with a signature check.
func ExampleOpen() {
	b, err := loader.Open("scb.zip", loader.Options{
		KeyPassphrase: []byte(os.Getenv("SCB_KEY_PASSPHRASE")), // never a flag
		Verify: func(raw *scb.Bundle) error {
			// e.g. a signature check with a pinned key (package verify).
			return nil
		},
	})
	var le *loader.Error
	if errors.As(err, &le) {
		log.Fatalf("bundle rejected at the %s stage: %v", le.Stage, err)
	}
	fmt.Println(b) // prints no secret
}

// Watch a bundle file and follow its replacements.
func ExampleWatch() {
	w, err := loader.Watch("/etc/myapp/scb.zip", loader.WatchOptions{
		Interval:      30 * time.Second,
		ExpiryWarning: 14 * 24 * time.Hour,
		OnReload: func(old, new *loader.Bundle) {
			log.Printf("new client certificate, expires %s", new.Certificate().NotAfter)
		},
		OnError: func(err error) { log.Printf("bundle not reloaded, keeping the old one: %v", err) },
		Logger:  slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	// Pass w to gocqlv2.Connect, or use w.TLSConfig() with loader.Dialer.
	d := &loader.Dialer{Source: w}
	conn, err := d.DialContext(context.Background(), "tcp", "10.0.0.5:9042")
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()
}
