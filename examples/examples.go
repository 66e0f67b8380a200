// Package examples holds the example programs that every bundle carries
// under examples/<driver>/ for the Java, Python, Node.js, .NET and C++
// drivers. They are the same files users find here in the repository and
// that CI runs against a real cluster (scripts/test-examples.sh). The Go
// program in bundles lives in scb/render (examples/go here is the loader's
// own example, a different program).
package examples

import "embed"

// FS holds <driver>/... for java, python, nodejs, dotnet and cpp. The
// patterns name the sources explicitly so that build outputs (Maven's
// target/, node_modules/) never end up in a bundle.
//
//go:embed java/pom.xml java/README.md java/src python/README.md python/example.py python/requirements.txt nodejs/README.md nodejs/example.js nodejs/package.json dotnet cpp
var FS embed.FS

// Drivers are the driver families FS holds.
var Drivers = []string{"java", "python", "nodejs", "dotnet", "cpp"}
