package testcluster

import (
	"bytes"
	"io"
	"os"
	"strings"
)

// logTail follows a growing log file and returns complete new lines.
type logTail struct {
	path    string
	off     int64
	partial []byte
}

// followLog returns a logTail starting at the current end of path.
func followLog(path string) *logTail {
	t := &logTail{path: path}
	if st, err := os.Stat(path); err == nil {
		t.off = st.Size()
	}
	return t
}

// lines returns the complete lines appended since the last call.
func (t *logTail) lines() []string {
	f, err := os.Open(t.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil || len(b) == 0 {
		return nil
	}
	t.off += int64(len(b))
	b = append(t.partial, b...)
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		t.partial = b
		return nil
	}
	t.partial = append([]byte(nil), b[i+1:]...)
	return strings.Split(string(b[:i]), "\n")
}

// startupWatch scans a node's log for the markers of startup progress.
type startupWatch struct {
	tail      *logTail
	listening bool   // "Starting listening for CQL clients" seen
	fatal     string // first fatal line seen
}

// fatalMarkers are log fragments after which a start cannot succeed.
var fatalMarkers = []string{
	"Exception encountered during startup",
	"Fatal configuration error",
	"Failed to bind port",
	"Unable to bind to address",
	"Address already in use",
	"Port already in use",
	"Invalid yaml",
	"Error: Could not find or load main class",
	"Error occurred during initialization of VM",
}

// update reads new log lines and records what they show.
func (w *startupWatch) update() {
	for _, l := range w.tail.lines() {
		if strings.Contains(l, "Starting listening for CQL clients") {
			w.listening = true
		}
		if w.fatal == "" {
			for _, m := range fatalMarkers {
				if strings.Contains(l, m) {
					w.fatal = strings.TrimSpace(l)
					break
				}
			}
		}
	}
}

// isPortInUse reports whether a fatal log line means a port was taken.
func isPortInUse(line string) bool {
	for _, m := range []string{"Failed to bind port", "Unable to bind to address", "already in use"} {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// tailFile returns the last n lines of path (at most 64 KiB are read).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 64 << 10
	st, err := f.Stat()
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, max))
	if err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // probably cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
