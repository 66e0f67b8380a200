using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ScbKit.Loader.Tests
{
    /// <summary>
    /// Against the real Cassandra 5.0 test cluster (client certificate required,
    /// PasswordAuthenticator): the loader's X509Certificate2 and pinned validation callback drive
    /// a real SslStream handshake, then a minimal CQL native-protocol v4 exchange (STARTUP, SASL
    /// PLAIN, QUERY) round-trips data. The DataStax C# driver itself cannot be installed here.
    /// </summary>
    public static class ClusterTests
    {
        sealed class State
        {
            public string CaCert, CaKey, Username, Password, Cluster, Address, Dc;
            public int Port;
            public string Endpoint { get { return (Address.Contains(":") ? "[" + Address + "]" : Address) + ":" + Port; } }
        }

        static State state;
        static string tmp, bundle, foreign;

        static State Load()
        {
            string p = Environment.GetEnvironmentVariable("SCB_TEST_STATE");
            if (string.IsNullOrEmpty(p))
            {
                if (TestRunner.CI) throw new AssertionException("SCB_TEST_STATE is not set and CI is: integration tests must not be skipped (run scripts/test.sh)");
                throw new SkipException("set SCB_TEST_STATE (make test, or scripts/testcluster.sh start)");
            }
            var s = Json.ParseObject(File.ReadAllBytes(p), false);
            var c = (Json.JsonObject)((List<object>)s.Get("clusters"))[0];
            var n = (Json.JsonObject)((List<object>)c.Get("nodes"))[0];
            return new State
            {
                CaCert = (string)s.Get("ca_cert"), CaKey = (string)s.Get("ca_key"), Username = (string)s.Get("username"), Password = (string)s.Get("password"),
                Cluster = (string)c.Get("name"), Address = (string)n.Get("address"), Port = int.Parse(n.Get("native_port").ToString()), Dc = (string)n.Get("dc"),
            };
        }

        static void Setup()
        {
            if (state != null) return;
            var st = Load();
            tmp = Support.TempDir();
            AppDomain.CurrentDomain.ProcessExit += (s, e) => Support.DeleteTree(tmp);
            var ca = Support.CaDirFrom(tmp, st.CaCert, st.CaKey);
            bundle = Path.Combine(tmp, "dotnet-it.zip");
            // legacy-3des: Mono cannot read the default AES-256 cert.pfx (see README).
            Support.ScbRun(tmp, "generate", "--dir", ca, "--environment", "testing", "--cluster", st.Cluster, "--client", "dotnet-it",
                "--contact-point", st.Endpoint, "--datacenter", st.Dc, "--validity", "24h", "--pkcs12-cipher", "legacy-3des", "--out", bundle);
            foreign = Path.Combine(tmp, "foreign.zip");
            Support.ScbRun(tmp, "generate", "--environment", "development", "--cluster", st.Cluster, "--client", "foreign",
                "--contact-point", st.Endpoint, "--datacenter", st.Dc, "--pkcs12-cipher", "legacy-3des", "--out", foreign);
            state = st;
        }

        public static void Register()
        {
            TestRunner.Add("cluster/mtls-handshake-and-cql-round-trip", () =>
            {
                Setup();
                var b = ScbBundle.Load(bundle, new LoadOptions { Username = state.Username, Password = state.Password });
                Assert.Equal(state.Dc, b.LocalDatacenter);
                Assert.True(b.ClientCertificate.HasPrivateKey, "client certificate without key");
                using (var c = Connect(b, b.CreateServerCertificateValidator()))
                {
                    c.Startup(b.Username, b.Password);
                    var v = c.QueryText("SELECT release_version FROM system.local");
                    Assert.True(v.StartsWith("5.", StringComparison.Ordinal), "release_version " + v);
                    c.Query("CREATE KEYSPACE IF NOT EXISTS scbkit_dotnet_it WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
                    string table = "scbkit_dotnet_it.rt_" + Guid.NewGuid().ToString("N");
                    c.Query("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
                    try
                    {
                        c.Query("INSERT INTO " + table + " (id, v) VALUES (1, 'hello from the .NET loader')");
                        Assert.Equal("hello from the .NET loader", c.QueryText("SELECT v FROM " + table + " WHERE id = 1"));
                    }
                    finally { c.Query("DROP TABLE IF EXISTS " + table); }
                }
            });
            TestRunner.Add("cluster/validator-rejects-a-server-outside-the-bundle-ca", () =>
            {
                Setup();
                var b = ScbBundle.Load(foreign, new LoadOptions { Username = state.Username, Password = state.Password });
                bool called = false;
                var v = b.CreateServerCertificateValidator();
                RemoteCertificateValidationCallback spy = (s, cert, chain, err) => { called = true; return v(s, cert, chain, err); };
                Assert.Throws<AuthenticationException>(() => { using (Connect(b, spy)) { } });
                Assert.True(called, "the validator was not consulted");
            });
            TestRunner.Add("cluster/validator-checks-the-host-name", () =>
            {
                Setup();
                var b = ScbBundle.Load(bundle, new LoadOptions { Username = state.Username, Password = state.Password });
                Assert.Throws<AuthenticationException>(() => { using (Connect(b, b.CreateServerCertificateValidator("not-the-node.example.com"))) { } });
                using (var c = Connect(b, b.CreateServerCertificateValidator("localhost"))) { c.Startup(b.Username, b.Password); }
            });
            TestRunner.Add("cluster/wrong-password-is-refused", () =>
            {
                Setup();
                var b = ScbBundle.Load(bundle, new LoadOptions { Username = state.Username, Password = "not-the-password" });
                using (var c = Connect(b, b.CreateServerCertificateValidator()))
                {
                    var e = Assert.Throws<InvalidOperationException>(() => c.Startup(b.Username, b.Password));
                    Assert.False(e.Message.Contains("not-the-password"), e.Message);
                }
            });
        }

        static Cql Connect(ScbBundle b, RemoteCertificateValidationCallback validator)
        {
            var ep = b.ResolveContactPoints()[0];
            var tcp = new TcpClient();
            tcp.Connect(ep);
            tcp.ReceiveTimeout = 20000;
            tcp.SendTimeout = 20000;
            var ssl = new SslStream(tcp.GetStream(), false, validator, b.CreateClientCertificateSelector());
            try
            {
                ssl.AuthenticateAsClient(ep.Address.ToString(), new X509CertificateCollection { b.ClientCertificate }, SslProtocols.Tls12, false);
            }
            catch { ssl.Dispose(); tcp.Close(); throw; }
            return new Cql(tcp, ssl);
        }

        /// <summary>Just enough of the CQL native protocol v4 for a test.</summary>
        sealed class Cql : IDisposable
        {
            readonly TcpClient tcp;
            readonly SslStream s;
            short stream;

            public Cql(TcpClient tcp, SslStream s) { this.tcp = tcp; this.s = s; }
            public void Dispose() { s.Dispose(); tcp.Close(); }

            static void Str(MemoryStream m, string v) { var b = Encoding.UTF8.GetBytes(v); m.WriteByte((byte)(b.Length >> 8)); m.WriteByte((byte)b.Length); m.Write(b, 0, b.Length); }
            static void I32(MemoryStream m, int v) { m.WriteByte((byte)(v >> 24)); m.WriteByte((byte)(v >> 16)); m.WriteByte((byte)(v >> 8)); m.WriteByte((byte)v); }

            KeyValuePair<int, byte[]> Send(int opcode, byte[] body)
            {
                var h = new byte[9];
                h[0] = 0x04; h[2] = (byte)(++stream >> 8); h[3] = (byte)stream; h[4] = (byte)opcode;
                h[5] = (byte)(body.Length >> 24); h[6] = (byte)(body.Length >> 16); h[7] = (byte)(body.Length >> 8); h[8] = (byte)body.Length;
                s.Write(h, 0, 9);
                s.Write(body, 0, body.Length);
                s.Flush();
                var rh = ReadFull(9);
                int len = rh[5] << 24 | rh[6] << 16 | rh[7] << 8 | rh[8];
                var rb = ReadFull(len);
                if (rh[4] == 0x00)
                {
                    int code = rb[0] << 24 | rb[1] << 16 | rb[2] << 8 | rb[3];
                    int ml = rb[4] << 8 | rb[5];
                    throw new InvalidOperationException("CQL error 0x" + code.ToString("x") + ": " + Encoding.UTF8.GetString(rb, 6, ml));
                }
                return new KeyValuePair<int, byte[]>(rh[4], rb);
            }

            byte[] ReadFull(int n)
            {
                var b = new byte[n];
                int off = 0;
                while (off < n) { int r = s.Read(b, off, n - off); if (r <= 0) throw new IOException("connection closed"); off += r; }
                return b;
            }

            public void Startup(string user, string pass)
            {
                var m = new MemoryStream();
                m.WriteByte(0); m.WriteByte(1);
                Str(m, "CQL_VERSION"); Str(m, "3.0.0");
                var r = Send(0x01, m.ToArray());
                if (r.Key == 0x02) return; // READY: no authenticator
                Assert.Equal(0x03, r.Key, "expected AUTHENTICATE");
                var token = Encoding.UTF8.GetBytes("\0" + user + "\0" + pass);
                var a = new MemoryStream();
                I32(a, token.Length);
                a.Write(token, 0, token.Length);
                r = Send(0x0f, a.ToArray());
                Assert.Equal(0x10, r.Key, "expected AUTH_SUCCESS");
            }

            public byte[] Query(string cql)
            {
                var m = new MemoryStream();
                var q = Encoding.UTF8.GetBytes(cql);
                I32(m, q.Length);
                m.Write(q, 0, q.Length);
                m.WriteByte(0); m.WriteByte(1); // consistency ONE
                m.WriteByte(0);                 // no flags
                var r = Send(0x07, m.ToArray());
                Assert.Equal(0x08, r.Key, "expected RESULT");
                return r.Value;
            }

            /// <summary>The first column of the first row, as text.</summary>
            public string QueryText(string cql)
            {
                var b = Query(cql);
                int p = 0;
                Func<int> i32 = () => { int v = b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3]; p += 4; return v; };
                Func<int> u16 = () => { int v = b[p] << 8 | b[p + 1]; p += 2; return v; };
                Action str = () => { int l = u16(); p += l; };
                Assert.Equal(2, i32(), "expected a Rows result");
                int flags = i32();
                int cols = i32();
                if ((flags & 0x0002) != 0) { int l = i32(); if (l > 0) p += l; }
                if ((flags & 0x0004) == 0)
                {
                    if ((flags & 0x0001) != 0) { str(); str(); }
                    for (int c = 0; c < cols; c++)
                    {
                        if ((flags & 0x0001) == 0) { str(); str(); }
                        str();
                        int type = u16();
                        if (type == 0x0000) str();
                    }
                }
                int rows = i32();
                Assert.True(rows >= 1, "no rows");
                int n = i32();
                return Encoding.UTF8.GetString(b, p, n);
            }
        }
    }
}
