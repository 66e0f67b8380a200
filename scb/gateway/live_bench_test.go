//go:build gatewayit

package gateway_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb/gateway"
	"github.com/scbkit/scbkit/scb/loader"
)

type benchResult struct {
	name          string
	queries       int
	errors        int
	elapsed       time.Duration
	p50, p99, max time.Duration
	lat           []time.Duration
}

func (r *benchResult) merge(o benchResult) {
	r.name = o.name
	r.queries += o.queries
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
}

func (r *benchResult) finish() {
	slices.Sort(r.lat)
	if n := len(r.lat); n > 0 {
		r.p50, r.p99, r.max = r.lat[n/2], r.lat[n*99/100], r.lat[n-1]
	}
}

func (r benchResult) qps() float64 { return float64(r.queries) / r.elapsed.Seconds() }

// bench measures the same workload (a prepared single-partition SELECT at
// LOCAL_ONE from N goroutines) directly against the nodes, through the
// gateway in terminate mode and in passthrough mode, in one run. The three
// sessions stay open and take turns in short slices (round-robin, several
// rounds), so that load from other processes on the machine falls on all
// three alike; figures are pooled over the rounds.
func (e *liveEnv) bench(t *testing.T, term, pass, proc *liveGateway) {
	seconds := 20
	if s, err := strconv.Atoi(os.Getenv("SCB_GATEWAY_BENCH_SECONDS")); err == nil && s > 0 && s <= 60 {
		seconds = s
	}
	const workers, rounds = 16, 5
	ctx := context.Background()
	direct := func() *gocql.ClusterConfig {
		lb, err := loader.Open(term.bundlePath, loader.Options{})
		require.NoError(t, err)
		cfg := gocql.NewCluster(e.cluster.Hosts()...)
		cfg.SslOpts = &gocql.SslOptions{Config: lb.TLSConfig(), EnableHostVerification: true}
		return cfg
	}
	via := func(g *liveGateway) func() *gocql.ClusterConfig {
		return func() *gocql.ClusterConfig {
			cfg, _, err := gateway.ClusterConfig(ctx, g.bundle)
			require.NoError(t, err)
			return cfg
		}
	}
	modes := []struct {
		name string
		cfg  func() *gocql.ClusterConfig
		pid  int
	}{
		{"direct", direct, 0},
		{"gateway terminate", via(term), 0},
		{"gateway passthrough", via(pass), 0},
	}
	if proc != nil && proc.proc != nil {
		// The "scb gateway" process: its CPU time per query is what a
		// gateway host would spend.
		modes = append(modes, struct {
			name string
			cfg  func() *gocql.ClusterConfig
			pid  int
		}{"scb gateway process", via(proc), proc.proc.Process.Pid})
	}
	sessions := make([]*gocql.Session, len(modes))
	for i, m := range modes {
		cfg := m.cfg()
		cfg.Authenticator = gocql.PasswordAuthenticator{Username: "app", Password: appPassword}
		cfg.Consistency = gocql.LocalOne
		cfg.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.DCAwareRoundRobinPolicy(liveDC))
		cfg.NumConns = 2
		cfg.Timeout = 10 * time.Second
		sess, err := cfg.CreateSession()
		require.NoError(t, err, m.name)
		defer sess.Close()
		sessions[i] = sess
		load(sess, m.name, workers, 2*time.Second) // warm-up
	}
	results := make([]benchResult, len(modes))
	cpu := make([]time.Duration, len(modes))
	slice := time.Duration(seconds) * time.Second / rounds
	for range rounds {
		for i, m := range modes {
			c0 := procCPU(m.pid)
			r := load(sessions[i], m.name, workers, slice)
			cpu[i] += procCPU(m.pid) - c0
			results[i].merge(r)
		}
	}
	for i := range results {
		r := &results[i]
		r.finish()
		t.Logf("%-20s %8.0f q/s  p50 %8s  p99 %8s  max %8s  errors %d (%d queries in %s, %d workers, %d rounds)",
			r.name, r.qps(), r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.max.Round(time.Microsecond),
			r.errors, r.queries, r.elapsed.Round(time.Millisecond), workers, rounds)
		require.Zero(t, r.errors, r.name)
		if modes[i].pid != 0 && r.queries > 0 {
			t.Logf("%-20s CPU %s for %d queries: %.1f µs per query (one core ≈ %.0f q/s)", r.name, cpu[i], r.queries,
				float64(cpu[i].Microseconds())/float64(r.queries), float64(r.queries)/cpu[i].Seconds())
		}
	}
	for _, r := range results[1:] {
		t.Logf("%s: %.1f %% of direct throughput, p50 %+v, p99 %+v vs direct", r.name, 100*r.qps()/results[0].qps(),
			(r.p50 - results[0].p50).Round(time.Microsecond), (r.p99 - results[0].p99).Round(time.Microsecond))
	}
}

// procCPU returns the user+system CPU time of process pid (0: none).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (100 per second).
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// load runs the workload for d and returns throughput and latency.
func load(sess *gocql.Session, name string, workers int, d time.Duration) benchResult {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	deadline := time.Now().Add(d)
	began := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<16)
			e := 0
			var v string
			for n := 0; n < 5_000_000 && time.Now().Before(deadline); n++ {
				t0 := time.Now()
				if err := sess.Query("SELECT v FROM "+liveKeyspace+".kv WHERE k = ?", "bench").Scan(&v); err != nil {
					e++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	return benchResult{name: name, queries: len(lat), errors: errs, elapsed: time.Since(began), lat: lat}
}
