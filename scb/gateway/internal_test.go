package gateway

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

func TestCanonicalHostID(t *testing.T) {
	for in, want := range map[string]string{
		"5B6962DD-3F90-4C93-8F61-EABFA4A803E2": "5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
		"5b6962dd-3f90-4c93-8f61-eabfa4a803e2": "5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
		"5b6962dd3f904c938f61eabfa4a803e2":     "",
		"5b6962dd-3f90-4c93-8f61-eabfa4a803eg": "",
		"localhost":                            "",
		"":                                     "",
	} {
		got, ok := canonicalHostID(in)
		if got != want || ok != (want != "") {
			t.Errorf("canonicalHostID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// clientHello returns the first flight of a real TLS client sending sni.
func clientHello(t testing.TB, sni string) []byte {
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_ = c.Handshake()
		a.Close()
	}()
	buf := make([]byte, 16<<10)
	_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := b.Read(buf)
	b.Close()
	return buf[:n]
}

func peek(data []byte) (string, []byte, error) {
	a, b := net.Pipe()
	go func() {
		_, _ = a.Write(data)
		a.Close()
	}()
	defer b.Close()
	_ = b.SetDeadline(time.Now().Add(2 * time.Second))
	return peekClientHello(b)
}

func TestPeekClientHello(t *testing.T) {
	hello := clientHello(t, "5b6962dd-3f90-4c93-8f61-eabfa4a803e2")
	sni, got, err := peek(hello)
	if err != nil || sni != "5b6962dd-3f90-4c93-8f61-eabfa4a803e2" || !bytes.Equal(got, hello) {
		t.Fatalf("peek = %q, %d bytes, %v", sni, len(got), err)
	}
	if _, _, err := peek([]byte("GET / HTTP/1.0\r\n\r\n")); err == nil {
		t.Fatal("plain HTTP accepted as a ClientHello")
	}
}

// FuzzPeekClientHello: arbitrary input never panics, and what is returned
// for replay is exactly a prefix of the input.
func FuzzPeekClientHello(f *testing.F) {
	f.Add(clientHello(f, "localhost"))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, got, err := peek(data)
		if err == nil && !bytes.HasPrefix(data, got) {
			t.Fatalf("replay bytes are not a prefix of the input")
		}
	})
}
