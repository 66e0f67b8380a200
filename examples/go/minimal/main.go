// Command minimal is the shortest complete program that connects with a
// secure connection bundle (the README snippet; compiled in CI).
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/gocqlv2"
)

func main() {
	b, err := loader.Open("scb.zip", loader.Options{}) // checks digests, expiry, key
	if err != nil {
		log.Fatal(err)
	}
	s, err := gocqlv2.Connect(context.Background(), b, gocqlv2.WithPassword("app", os.Getenv("SCB_PASSWORD")))
	if err != nil {
		log.Fatal(err) // *loader.ConnectError: TLS, auth, unreachable or timeout
	}
	defer s.Close()
	var v string
	err = s.Query("SELECT release_version FROM system.local").Scan(&v)
	fmt.Println(v, err)
}
