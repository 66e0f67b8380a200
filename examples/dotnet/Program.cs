// Connects to Cassandra over mutual TLS with the bundle's .NET settings,
// writes a row and reads it back. Usage: dotnet run -- [BUNDLE_DIR]
// (default $SCB_BUNDLE, else "."; extract a zip first). Credentials come from
// SCB_USERNAME and SCB_PASSWORD. Exit codes: 0 ok, 1 other error, 2 bad
// bundle or usage, 3 authentication failed, 4 TLS failed, 5 no host
// available, 6 timed out.
using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Threading;
using Cassandra;

namespace ScbExample
{
    static class Program
    {
        static int Main(string[] args)
        {
            string user = Environment.GetEnvironmentVariable("SCB_USERNAME"), pass = Environment.GetEnvironmentVariable("SCB_PASSWORD");
            string ks = Environment.GetEnvironmentVariable("SCB_KEYSPACE") ?? "scb_examples";
            if (string.IsNullOrEmpty(user) || pass == null || !Regex.IsMatch(ks, "^[A-Za-z][A-Za-z0-9_]{0,47}$"))
            {
                Console.Error.WriteLine("set SCB_USERNAME and SCB_PASSWORD (and a plain SCB_KEYSPACE)");
                return 2;
            }
            ScbBundle b;
            try { b = ScbBundle.Load(args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("SCB_BUNDLE") ?? "."); }
            catch (Exception e) { Console.Error.WriteLine("bundle: " + e.Message); return 2; }
            var s = b.Settings;

            // The driver's default protocol is TLS 1.0 and its default callback knows no
            // private CA: set both. Node identity is checked against the node's IP address
            // (or ServerName) through the host name resolver.
            var ssl = new SSLOptions(b.Protocols, s.Ssl.CheckCertificateRevocation, b.ValidateServerCertificate)
                .SetCertificateCollection(new X509CertificateCollection { b.ClientCertificate })
                .SetHostNameResolver(ip => string.IsNullOrEmpty(s.Ssl.ServerName) ? ip.ToString() : s.Ssl.ServerName);
            var cluster = Cluster.Builder()
                .AddContactPoints(s.ContactPoints).WithPort(s.Port)
                .WithSSL(ssl)
                .WithCredentials(user, pass)
                .WithLoadBalancingPolicy(s.LoadBalancingPolicy == "DefaultLoadBalancingPolicy"
                    ? (ILoadBalancingPolicy)new DefaultLoadBalancingPolicy(s.LocalDatacenter)
                    : new DCAwareRoundRobinPolicy(s.LocalDatacenter))
                .WithRetryPolicy(s.RetryPolicy == "DefaultRetryPolicy" ? (IRetryPolicy)new DefaultRetryPolicy() : FallthroughRetryPolicy.Instance)
                .WithSocketOptions(new SocketOptions().SetConnectTimeoutMillis(s.ConnectTimeoutMillis).SetReadTimeoutMillis(s.ReadTimeoutMillis))
                .WithQueryOptions(new QueryOptions().SetConsistencyLevel((ConsistencyLevel)Enum.Parse(typeof(ConsistencyLevel), s.ConsistencyLevel)))
                .WithPoolingOptions(PoolingOptions.Create().SetCoreConnectionsPerHost(HostDistance.Local, s.CoreConnectionsPerHost))
                .WithCompression((CompressionType)Enum.Parse(typeof(CompressionType), s.Compression))
                .Build();
            try
            {
                var session = cluster.Connect();
                Retry(() => session.Execute("CREATE KEYSPACE IF NOT EXISTS " + ks +
                    " WITH replication = {'class': 'NetworkTopologyStrategy', '" + s.LocalDatacenter + "': 1}"));
                Retry(() => session.Execute("CREATE TABLE IF NOT EXISTS " + ks +
                    ".messages (driver text PRIMARY KEY, message text, written_at timestamp)"));
                var insert = session.Prepare("INSERT INTO " + ks + ".messages (driver, message, written_at) VALUES (?, ?, ?)");
                var select = session.Prepare("SELECT driver, message, written_at FROM " + ks + ".messages WHERE driver = ?");
                Retry(() => session.Execute(insert.Bind("dotnet", "hello from the C# driver", DateTimeOffset.UtcNow).SetIdempotence(true)));
                var row = Retry(() => session.Execute(select.Bind("dotnet").SetIdempotence(true))).FirstOrDefault();
                if (row == null) { Console.Error.WriteLine("row not found after write"); return 1; }
                Console.WriteLine("read back: driver={0} message=\"{1}\" written_at={2:o}",
                    row.GetValue<string>("driver"), row.GetValue<string>("message"), row.GetValue<DateTimeOffset>("written_at"));
                return 0;
            }
            catch (Exception e) { return Explain(e); }
            finally { cluster.Shutdown(); }
        }

        // Retries idempotent requests on timeouts and unavailable replicas, with backoff.
        static T Retry<T>(Func<T> request)
        {
            for (int attempt = 1; ; attempt++)
            {
                try { return request(); }
                catch (Exception e) when ((e is OperationTimedOutException || e is ReadTimeoutException ||
                                           e is WriteTimeoutException || e is UnavailableException) && attempt < 3)
                {
                    Console.Error.WriteLine("attempt {0} failed ({1}), retrying", attempt, e.GetType().Name);
                    Thread.Sleep(200 << attempt);
                }
            }
        }

        static int Explain(Exception e)
        {
            var inner = e is NoHostAvailableException nh ? nh.Errors.Values.ToList() : new System.Collections.Generic.List<Exception> { e };
            foreach (var x in inner)
            {
                if (x is Cassandra.AuthenticationException || x.GetBaseException() is Cassandra.AuthenticationException)
                    return Report(3, "authentication failed: check SCB_USERNAME / SCB_PASSWORD", e);
                if (x.GetBaseException() is System.Security.Authentication.AuthenticationException)
                    return Report(4, "TLS failed: server certificate not from this bundle's CA, wrong host name, or client certificate refused", e);
            }
            if (e is NoHostAvailableException) return Report(5, "no host available: check contact points, datacenter and network", e);
            if (e is OperationTimedOutException || e is ReadTimeoutException || e is WriteTimeoutException) return Report(6, "timed out", e);
            return Report(1, "error", e);
        }

        static int Report(int code, string what, Exception e)
        {
            Console.Error.WriteLine(what + ": " + e.Message);
            return code;
        }
    }
}
