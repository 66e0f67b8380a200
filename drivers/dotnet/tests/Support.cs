using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace ScbKit.Loader.Tests
{
    /// <summary>Temporary directories, the scb CLI, and hostile archives for tests.</summary>
    public static class Support
    {
        /// <summary>A private (0700) temporary directory with an unpredictable name; delete it with DeleteTree.</summary>
        public static string TempDir()
        {
            string d = Path.Combine(Path.GetTempPath(), "scbkit-dotnet-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(d);
            Run("chmod", new[] { "700", d }, null);
            return d;
        }

        public static void DeleteTree(string d) { if (Directory.Exists(d)) Directory.Delete(d, true); }

        public static string Run(string exe, IList<string> args, IDictionary<string, string> env)
        {
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            var sb = new StringBuilder();
            foreach (var a in args) sb.Append(sb.Length > 0 ? " " : "").Append(Quote(a));
            psi.Arguments = sb.ToString();
            if (env != null) foreach (var kv in env) psi.EnvironmentVariables[kv.Key] = kv.Value;
            using (var p = Process.Start(psi))
            {
                p.StandardInput.Close();
                var errTask = p.StandardError.ReadToEndAsync();
                string o = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                string e = errTask.Result;
                if (p.ExitCode != 0) throw new InvalidOperationException(exe + " " + psi.Arguments + " failed (" + p.ExitCode + "):\n" + o + e);
                return o + e;
            }
        }

        static string Quote(string a) { return a.Length > 0 && a.IndexOfAny(new[] { ' ', '"', '\'', '\\' }) < 0 ? a : "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""; }

        static string scbBin;

        /// <summary>The scb CLI: SCB_BIN (scripts/test-dotnet.sh builds it), else built once with go build.</summary>
        public static string Scb()
        {
            if (scbBin != null) return scbBin;
            var env = Environment.GetEnvironmentVariable("SCB_BIN");
            if (!string.IsNullOrEmpty(env)) return scbBin = env;
            string o = Path.Combine(Path.GetTempPath(), "scbkit-dotnet-scb-" + Guid.NewGuid().ToString("N"));
            var root = TestRunner.RepoRoot();
            var psi = new ProcessStartInfo("go", "build -o " + Quote(o) + " ./cmd/scb") { UseShellExecute = false, WorkingDirectory = root };
            using (var p = Process.Start(psi)) { p.WaitForExit(); if (p.ExitCode != 0) throw new InvalidOperationException("go build ./cmd/scb failed"); }
            return scbBin = o;
        }

        /// <summary>Runs scb ARGS in dir with SCB_HOME inside dir.</summary>
        public static string ScbRun(string dir, params string[] args)
        {
            return Run(Scb(), args, new Dictionary<string, string> { { "SCB_HOME", Path.Combine(dir, "scb-home") } });
        }

        /// <summary>
        /// An scbkit CA directory whose root and intermediate are both the given self-signed CA, so
        /// that 'scb generate --dir' issues client certificates the test cluster accepts. Private
        /// files inside a private temporary directory, deleted with it.
        /// </summary>
        public static string CaDirFrom(string parent, string caCert, string caKey)
        {
            string dir = Path.Combine(parent, "ca");
            Directory.CreateDirectory(dir);
            Run("chmod", new[] { "700", dir }, null);
            var cert = File.ReadAllBytes(caCert);
            var key = File.ReadAllBytes(caKey);
            foreach (var f in new[] { "root-cert.pem", "root-key.pem", "intermediate-cert.pem", "intermediate-key.pem", "ca.json" })
            {
                string p = Path.Combine(dir, f);
                File.WriteAllBytes(p, new byte[0]);
                Run("chmod", new[] { "600", p }, null);
                if (f == "ca.json") File.WriteAllText(p, "{\n  \"version\": 1,\n  \"key_type\": \"ecdsa-p256\",\n  \"encrypted\": false,\n  \"created_at\": \"2025-01-01T00:00:00Z\"\n}\n");
                else File.WriteAllBytes(p, f.Contains("cert") ? cert : key);
            }
            return dir;
        }

        // ---- hostile zips --------------------------------------------------------------------

        public sealed class ZipEntry
        {
            public string Name; public byte[] Data; public bool Deflate = true; public int Creator = 3 << 8 | 20;
            public long Mode = Convert.ToInt64("100600", 8); public long? DeclaredSize; public uint? Crc;
            public ZipEntry(string name, string data) { Name = name; Data = Encoding.UTF8.GetBytes(data); }
            public ZipEntry(string name, byte[] data) { Name = name; Data = data; }
        }

        static void W16(Stream s, int v) { s.WriteByte((byte)v); s.WriteByte((byte)(v >> 8)); }
        static void W32(Stream s, long v) { W16(s, (int)(v & 0xffff)); W16(s, (int)((v >> 16) & 0xffff)); }

        public static byte[] Zip(params ZipEntry[] entries)
        {
            var o = new MemoryStream();
            var cd = new MemoryStream();
            foreach (var e in entries)
            {
                var name = Encoding.UTF8.GetBytes(e.Name);
                byte[] comp = e.Data;
                if (e.Deflate)
                {
                    var ms = new MemoryStream();
                    using (var ds = new System.IO.Compression.DeflateStream(ms, System.IO.Compression.CompressionMode.Compress, true)) ds.Write(e.Data, 0, e.Data.Length);
                    comp = ms.ToArray();
                }
                uint crc = e.Crc ?? BundleFiles.Crc32(e.Data, 0, e.Data.Length);
                long size = e.DeclaredSize ?? e.Data.Length;
                long off = o.Length;
                W32(o, 0x04034b50); W16(o, 20); W16(o, 0); W16(o, e.Deflate ? 8 : 0); W16(o, 0); W16(o, 0);
                W32(o, crc); W32(o, comp.Length); W32(o, size); W16(o, name.Length); W16(o, 0);
                o.Write(name, 0, name.Length); o.Write(comp, 0, comp.Length);
                W32(cd, 0x02014b50); W16(cd, e.Creator); W16(cd, 20); W16(cd, 0); W16(cd, e.Deflate ? 8 : 0); W16(cd, 0); W16(cd, 0);
                W32(cd, crc); W32(cd, comp.Length); W32(cd, size); W16(cd, name.Length); W16(cd, 0); W16(cd, 0); W16(cd, 0); W16(cd, 0);
                W32(cd, e.Mode << 16); W32(cd, off);
                cd.Write(name, 0, name.Length);
            }
            long cdOff = o.Length;
            var cdb = cd.ToArray();
            o.Write(cdb, 0, cdb.Length);
            W32(o, 0x06054b50); W16(o, 0); W16(o, 0); W16(o, entries.Length); W16(o, entries.Length); W32(o, cdb.Length); W32(o, cdOff); W16(o, 0);
            return o.ToArray();
        }

        public static byte[] Hex(string h)
        {
            var b = new byte[h.Length / 2];
            for (int i = 0; i < b.Length; i++) b[i] = Convert.ToByte(h.Substring(2 * i, 2), 16);
            return b;
        }
    }
}
