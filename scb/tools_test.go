package scb_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// jdkDirs are searched for java and keytool when they are not on PATH.
var jdkDirs = []string{
	"/usr/lib/jvm/java-17-openjdk-amd64/bin",
	"/usr/lib/jvm/java-17-openjdk-arm64/bin",
	"/usr/lib/jvm/openjdk-17/bin",
}

// needTool returns the path of a foreign tool used by an interoperability
// test. Where it is missing the test is skipped on a developer machine but
// fails in CI (CI set), so a CI image that lost a tool cannot pass quietly.
func needTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range jdkDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := name + " not found on PATH; install it with: apt-get install -y " + debianPackage
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runTool runs a foreign tool in dir with no standard input and returns its
// combined output. A non-zero exit is returned as err, with the output.
func runTool(t testing.TB, dir, tool string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("")
	// Keep the JVM from picking up options from the environment and make
	// tool messages predictable.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "LANG", "LC_ALL", "LANGUAGE":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRun is runTool that fails the test on a non-zero exit.
func mustRun(t testing.TB, dir, tool string, args ...string) string {
	t.Helper()
	out, err := runTool(t, dir, tool, args...)
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(tool), strings.Join(args, " "), out)
	return out
}

// extractZip unpacks a bundle zip with archive/zip into a new temporary
// directory, checking on the way that every entry is Deflate-compressed and
// has mode 0600. It returns the directory.
func extractZip(t testing.TB, zipPath string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	dir := t.TempDir()
	for _, f := range zr.File {
		require.Equal(t, zip.Deflate, f.Method, "%s: stored entries break java.util.zip.ZipInputStream", f.Name)
		require.Equal(t, os.FileMode(0o600), f.Mode(), f.Name)
		require.True(t, filepath.IsLocal(f.Name), f.Name)
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		rc, err := f.Open()
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = io.Copy(&buf, rc)
		rc.Close()
		require.NoError(t, err, f.Name)
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	}
	return dir
}
