using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>
    /// The files of a bundle, in memory, keyed by path. Read from a zip or tar.gz archive or a
    /// directory with the rules of the Go reader: safe paths only, no links or special files, no
    /// duplicates, bounded sizes. Nothing is ever extracted to disk.
    /// </summary>
    internal sealed class BundleFiles
    {
        internal const string Metadata = "metadata.json", Manifest = "manifest.json",
            Signature = "signatures/manifest.dsse.json", SignaturesDir = "signatures/",
            CaCert = "certificates/ca-cert.pem", ClientCert = "certificates/client-cert.pem",
            ClientKey = "certificates/client-key.pem", ClientYaml = "config/cassandra.yaml", Readme = "README.md",
            CloudConfig = "config.json", CloudCa = "ca.crt", CloudCert = "cert", CloudKey = "key",
            CloudPfx = "cert.pfx", CloudIdentity = "identity.jks", CloudTrustStore = "trustStore.jks", Cqlshrc = "cqlshrc";

        internal static readonly string[] Required = { Metadata, Manifest, CaCert, ClientCert, ClientKey, ClientYaml, Readme };
        internal static readonly string[] Stock = { CloudConfig, CloudCa, CloudCert, CloudKey, Cqlshrc, CloudPfx, CloudIdentity, CloudTrustStore };

        internal static string ConnectionProfilePath(string env) { return "config/connection-profiles/" + env + ".yaml"; }

        readonly SortedDictionary<string, byte[]> files = new SortedDictionary<string, byte[]>(new ByteOrder());
        long total;

        /// <summary>Orders paths by their UTF-8 bytes, as Go sorts strings.</summary>
        internal sealed class ByteOrder : IComparer<string>
        {
            public int Compare(string a, string b)
            {
                var x = Encoding.UTF8.GetBytes(a);
                var y = Encoding.UTF8.GetBytes(b);
                for (int i = 0; i < Math.Min(x.Length, y.Length); i++) if (x[i] != y[i]) return x[i] - y[i];
                return x.Length - y.Length;
            }
        }

        internal byte[] Get(string p) { byte[] d; return files.TryGetValue(p, out d) ? d : null; }
        internal bool Has(string p) { return files.ContainsKey(p); }
        internal int Count { get { return files.Count; } }
        internal List<string> Paths { get { return new List<string>(files.Keys); } }
        internal void Put(string p, byte[] data) { CheckPath(p); files[p] = data; }
        internal void Remove(string p) { files.Remove(p); }

        internal static string PathProblem(string p)
        {
            var b = Encoding.UTF8.GetBytes(p);
            if (p.Length == 0) return "empty name";
            if (b.Length > 512) return "name too long";
            if (p.StartsWith("/", StringComparison.Ordinal)) return "absolute path";
            if (p.IndexOf('\\') >= 0) return "backslash in name";
            if (b.Length >= 2 && b[1] == (byte)':') return "drive letter";
            foreach (char c in p) if (c < 0x20 || c == 0x7f) return "control character in name";
            foreach (var el in p.Split('/')) if (el.Length == 0 || el == "." || el == "..") return "relative element in name";
            return null;
        }

        internal static void CheckPath(string p)
        {
            var why = PathProblem(p);
            if (why != null) throw new BundleException(Outcome.UnsafePath, Json.Quote(p), "unsafe path: " + why);
        }

        static BundleException Malformed(string why) { return new BundleException(Outcome.MalformedArchive, null, "malformed archive: " + why); }
        static BundleException TooLargeFile(string name, Limits lim) { return new BundleException(Outcome.TooLarge, name, "archive exceeds size limits: file larger than " + lim.MaxFileSize + " bytes"); }

        /// <summary>Adds one entry with the Go reader's checks, in its order.</summary>
        void Add(string name, long size, Func<byte[]> read, Limits lim)
        {
            CheckPath(name);
            if (files.ContainsKey(name)) throw new BundleException(Outcome.MalformedArchive, name, "malformed archive: duplicate entry");
            if (files.Count >= lim.MaxFiles) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits: more than " + lim.MaxFiles + " files");
            if (size > lim.MaxFileSize) throw TooLargeFile(name, lim);
            byte[] data;
            try { data = read(); }
            catch (BundleException) { throw; }
            catch (Exception e) { throw new BundleException(Outcome.MalformedArchive, name, "malformed archive: " + e.GetType().Name); }
            if (data.Length > lim.MaxFileSize) throw TooLargeFile(name, lim);
            total += data.Length;
            if (total > lim.MaxTotalSize) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits: more than " + lim.MaxTotalSize + " bytes in total");
            files[name] = data;
        }

        /// <summary>Decodes a zip or tar.gz bundle held in memory.</summary>
        internal static BundleFiles Decode(byte[] a, Limits lim)
        {
            if (a.Length >= 4 && a[0] == 'P' && a[1] == 'K' && ((a[2] == 3 && a[3] == 4) || (a[2] == 5 && a[3] == 6))) return ReadZip(a, lim);
            if (a.Length >= 2 && a[0] == 0x1f && a[1] == 0x8b) return ReadTar(Gunzip(a, lim.MaxTotalSize + (long)lim.MaxFiles * 1536 + (2L << 20)), lim);
            throw Malformed("neither a zip nor a gzip file");
        }

        /// <summary>Reads a bundle file (zip, tar.gz) or directory; unreadable input is outcome Error.</summary>
        internal static BundleFiles Read(string path, Limits lim)
        {
            if (Directory.Exists(path)) return ReadDir(path, lim);
            byte[] data;
            try
            {
                var fi = new FileInfo(path);
                if (!fi.Exists) throw new BundleException(Outcome.Error, null, "cannot read bundle " + path + ": no such file or directory");
                if (fi.Length > lim.MaxArchiveSize) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits: archive is " + fi.Length + " bytes, more than " + lim.MaxArchiveSize);
                data = File.ReadAllBytes(path);
            }
            catch (BundleException) { throw; }
            catch (Exception e) { throw new BundleException(Outcome.Error, null, "cannot read bundle " + path + ": " + e.GetType().Name); }
            return Decode(data, lim);
        }

        // ---- zip --------------------------------------------------------------------------------

        static int U16(byte[] b, long o) { return b[o] | b[o + 1] << 8; }
        static long U32(byte[] b, long o) { return (long)b[o] | (long)b[o + 1] << 8 | (long)b[o + 2] << 16 | (long)b[o + 3] << 24; }
        static long U64(byte[] b, long o) { return U32(b, o) | U32(b, o + 4) << 32; }

        sealed class ZipEntry
        {
            internal string Name; internal int Creator, Flags, Method; internal long Crc, CSize, Size, Ext, Offset;

            internal string Type()
            {
                int os = Creator >> 8;
                string t = "regular";
                if (os == 3 || os == 19)
                {
                    switch ((int)(Ext >> 16) & 0xf000)
                    {
                        case 0x6000: t = "device"; break;
                        case 0x2000: t = "character device"; break;
                        case 0x4000: t = "directory"; break;
                        case 0x1000: t = "named pipe"; break;
                        case 0xa000: t = "symbolic link"; break;
                        case 0xc000: t = "socket"; break;
                    }
                }
                else if ((os == 0 || os == 11 || os == 14) && (Ext & 0x10) != 0) t = "directory";
                if (Name.EndsWith("/", StringComparison.Ordinal) && t == "regular") t = "directory";
                return t;
            }
        }

        static BundleFiles ReadZip(byte[] z, Limits lim)
        {
            var entries = CentralDirectory(z);
            if (entries.Count > lim.MaxFiles) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits: more than " + lim.MaxFiles + " files");
            var b = new BundleFiles();
            foreach (var e in entries)
            {
                string type = e.Type();
                if (e.Name.EndsWith("/", StringComparison.Ordinal) && (type == "directory" || e.Size == 0))
                {
                    CheckPath(e.Name.Substring(0, e.Name.Length - 1));
                    continue;
                }
                if (type != "regular") throw new BundleException(Outcome.UnsupportedEntry, Json.Quote(e.Name), "unsupported archive entry: " + type);
                if (e.Size > lim.MaxFileSize || e.Size < 0) throw TooLargeFile(Json.Quote(e.Name), lim);
                var entry = e;
                b.Add(e.Name, e.Size, () => Open(z, entry), lim);
            }
            return b;
        }

        static List<ZipEntry> CentralDirectory(byte[] z)
        {
            long end = -1;
            for (long i = z.Length - 22; i >= Math.Max(0, z.Length - 22 - 65535); i--)
            {
                if (U32(z, i) == 0x06054b50 && i + 22 + U16(z, i + 20) <= z.Length) { end = i; break; }
            }
            if (end < 0) throw Malformed("not a valid zip file");
            long records = U16(z, end + 10), dirSize = U32(z, end + 12), dirOffset = U32(z, end + 16);
            if (records == 0xffff || dirSize == 0xffffffffL || dirOffset == 0xffffffffL)
            {
                long loc = end - 20;
                if (loc >= 0 && U32(z, loc) == 0x07064b50)
                {
                    long off = U64(z, loc + 8);
                    if (off < 0 || off + 56 > z.Length || U32(z, off) != 0x06064b50) throw Malformed("not a valid zip file");
                    records = U64(z, off + 32); dirSize = U64(z, off + 40); dirOffset = U64(z, off + 48);
                }
            }
            if (dirOffset < 0 || dirOffset >= z.Length || dirSize < 0 || dirSize > z.Length || records < 0 || records > z.Length / 46)
                throw Malformed("not a valid zip file");
            var list = new List<ZipEntry>();
            long p = dirOffset;
            while (p + 46 <= z.Length && U32(z, p) == 0x02014b50)
            {
                var e = new ZipEntry
                {
                    Creator = U16(z, p + 4), Flags = U16(z, p + 8), Method = U16(z, p + 10), Crc = U32(z, p + 16),
                    CSize = U32(z, p + 20), Size = U32(z, p + 24), Ext = U32(z, p + 38), Offset = U32(z, p + 42),
                };
                int nl = U16(z, p + 28), xl = U16(z, p + 30), cl = U16(z, p + 32);
                long nameOff = p + 46;
                if (nameOff + nl + xl + cl > z.Length) throw Malformed("truncated central directory");
                e.Name = Encoding.UTF8.GetString(z, (int)nameOff, nl);
                Zip64(z, nameOff + nl, xl, e);
                list.Add(e);
                p = nameOff + nl + xl + cl;
            }
            if ((list.Count & 0xffff) != (records & 0xffff)) throw Malformed("central directory holds " + list.Count + " entries, the end record says " + records);
            return list;
        }

        static void Zip64(byte[] z, long off, int len, ZipEntry e)
        {
            bool ns = e.Size == 0xffffffffL, nc = e.CSize == 0xffffffffL, no = e.Offset == 0xffffffffL;
            long p = off, end = off + len;
            while (p + 4 <= end)
            {
                int tag = U16(z, p), size = U16(z, p + 2);
                long data = p + 4;
                if (data + size > end) throw Malformed("malformed extra field");
                if (tag == 1)
                {
                    long q = data, qe = data + size;
                    if (ns) { if (q + 8 > qe) throw Malformed("malformed zip64 extra field"); e.Size = U64(z, q); q += 8; }
                    if (nc) { if (q + 8 > qe) throw Malformed("malformed zip64 extra field"); e.CSize = U64(z, q); q += 8; }
                    if (no) { if (q + 8 > qe) throw Malformed("malformed zip64 extra field"); e.Offset = U64(z, q); }
                    ns = nc = no = false;
                }
                p = data + size;
            }
        }

        static byte[] Open(byte[] z, ZipEntry e)
        {
            if (e.Offset < 0 || e.Offset + 30 > z.Length || U32(z, e.Offset) != 0x04034b50) throw new InvalidDataException("zip: not a valid zip file");
            if (e.Method != 0 && e.Method != 8) throw new InvalidDataException("zip: unsupported compression algorithm");
            long dataOff = e.Offset + 30 + U16(z, e.Offset + 26) + U16(z, e.Offset + 28);
            if (e.CSize < 0 || dataOff + e.CSize > z.Length) throw new InvalidDataException("unexpected EOF");
            byte[] o;
            if (e.Method == 0)
            {
                if (e.CSize != e.Size) throw new InvalidDataException("zip: not a valid zip file");
                o = new byte[e.Size];
                Array.Copy(z, dataOff, o, 0, o.Length);
            }
            else
            {
                using (var ds = new DeflateStream(new MemoryStream(z, (int)dataOff, (int)e.CSize), CompressionMode.Decompress))
                    o = ReadAtMost(ds, e.Size + 1);
            }
            if (o.Length != e.Size) throw new InvalidDataException("zip: size mismatch");
            uint crc = Crc32(o, 0, o.Length);
            if ((e.Flags & 8) != 0)
            {
                long d = dataOff + e.CSize;
                if (d + 4 <= z.Length && U32(z, d) == 0x08074b50) d += 4;
                if (d + 4 > z.Length) throw new InvalidDataException("unexpected EOF");
                if (U32(z, d) != e.Crc) throw new InvalidDataException("zip: checksum error");
            }
            if (e.Crc != 0 && crc != (uint)e.Crc) throw new InvalidDataException("zip: checksum error");
            return o;
        }

        static byte[] ReadAtMost(Stream s, long max)
        {
            var ms = new MemoryStream();
            var buf = new byte[16384];
            while (ms.Length < max)
            {
                int n = s.Read(buf, 0, (int)Math.Min(buf.Length, max - ms.Length));
                if (n <= 0) break;
                ms.Write(buf, 0, n);
            }
            return ms.ToArray();
        }

        static uint[] crcTable;

        internal static uint Crc32(byte[] b, int off, int len)
        {
            if (crcTable == null)
            {
                var t = new uint[256];
                for (uint i = 0; i < 256; i++)
                {
                    uint c = i;
                    for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                    t[i] = c;
                }
                crcTable = t;
            }
            uint crc = 0xffffffffu;
            for (int i = off; i < off + len; i++) crc = crcTable[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
            return crc ^ 0xffffffffu;
        }

        // ---- tar.gz -----------------------------------------------------------------------------

        /// <summary>
        /// Decompresses a single-member gzip file: the header is checked, the deflate data
        /// inflated (bounded by max), and the trailer (CRC-32, length) must be the last 8 bytes
        /// and match. Multi-member gzip files are refused (scbkit writes one member).
        /// </summary>
        static byte[] Gunzip(byte[] gz, long max)
        {
            if (gz.Length < 18 || gz[2] != 8 || (gz[3] & 0xe0) != 0) throw Malformed("gzip: invalid header");
            int flg = gz[3], h = 10;
            try
            {
                if ((flg & 4) != 0) h += 2 + (gz[h] | gz[h + 1] << 8);
                if ((flg & 8) != 0) { while (gz[h] != 0) h++; h++; }
                if ((flg & 16) != 0) { while (gz[h] != 0) h++; h++; }
                if ((flg & 2) != 0) h += 2;
            }
            catch (IndexOutOfRangeException) { throw Malformed("unexpected EOF in gzip header"); }
            if (h + 8 > gz.Length) throw Malformed("unexpected EOF in gzip header");
            byte[] o;
            try
            {
                using (var ds = new DeflateStream(new MemoryStream(gz, h, gz.Length - h - 8), CompressionMode.Decompress))
                    o = ReadAtMost(ds, max + 1);
            }
            catch (Exception) { throw Malformed("flate: corrupt input"); }
            if (o.Length > max) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits: more than " + max + " bytes of tar data");
            long crc = U32(gz, gz.Length - 8), isize = U32(gz, gz.Length - 4);
            if (crc != Crc32(o, 0, o.Length) || isize != (o.Length & 0xffffffffL))
                throw Malformed("gzip: invalid checksum, truncated data, or data after the gzip stream");
            return o;
        }

        static bool Zero(byte[] t, int off) { for (int i = off; i < off + 512; i++) if (t[i] != 0) return false; return true; }

        static string CStr(byte[] t, int off, int len)
        {
            int n = 0;
            while (n < len && t[off + n] != 0) n++;
            return Encoding.UTF8.GetString(t, off, n);
        }

        static long Num(byte[] t, int off, int len)
        {
            if ((t[off] & 0x80) != 0)
            {
                if ((t[off] & 0x40) != 0) throw Malformed("tar: negative number");
                long v = t[off] & 0x3f;
                for (int i = 1; i < len; i++)
                {
                    if (v > (long.MaxValue >> 8)) throw Malformed("tar: number overflows");
                    v = (v << 8) | t[off + i];
                }
                return v;
            }
            var s = Encoding.ASCII.GetString(t, off, len).Replace('\0', ' ').Trim();
            if (s.Length == 0) return 0;
            try { return Convert.ToInt64(s, 8); }
            catch (Exception) { throw Malformed("tar: invalid number"); }
        }

        static bool ChecksumOk(byte[] t, int off)
        {
            long want = Num(t, off + 148, 8), u = 0, s = 0;
            for (int i = 0; i < 512; i++)
            {
                byte c = (i >= 148 && i < 156) ? (byte)' ' : t[off + i];
                u += c;
                s += (sbyte)c;
            }
            return want == u || want == s;
        }

        static BundleFiles ReadTar(byte[] t, Limits lim)
        {
            var b = new BundleFiles();
            int p = 0;
            string paxPath = null, longName = null;
            long? paxSize = null;
            while (true)
            {
                if (p == t.Length) return b;
                if (t.Length - p < 512) throw Malformed("unexpected EOF");
                if (Zero(t, p))
                {
                    if (t.Length - p < 1024) throw Malformed("unexpected EOF");
                    if (!Zero(t, p + 512)) throw Malformed("archive/tar: invalid tar header");
                    p += 1024;
                    if (t.Length - p > (1 << 20)) throw Malformed("too much padding after the end of the tar archive");
                    for (int i = p; i < t.Length; i++) if (t[i] != 0) throw Malformed("data after the end of the tar archive");
                    return b;
                }
                if (!ChecksumOk(t, p)) throw Malformed("archive/tar: invalid tar header");
                char type = (char)t[p + 156];
                string magic = Encoding.ASCII.GetString(t, p + 257, 6);
                string name = CStr(t, p, 100);
                if (magic == "ustar\0")
                {
                    string prefix = CStr(t, p + 345, 155);
                    if (prefix.Length > 0) name = prefix + "/" + name;
                }
                long size = Num(t, p + 124, 12);
                int dataOff = p + 512;
                if (size < 0 || size > t.Length - (long)dataOff) throw Malformed("unexpected EOF");
                int next = (int)Math.Min(t.Length, dataOff + (size + 511) / 512 * 512);
                if (type == 'x' || type == 'g')
                {
                    var rec = Pax(t, dataOff, (int)size);
                    if (type == 'x')
                    {
                        if (rec[0] != null) paxPath = rec[0];
                        if (rec[1] != null)
                        {
                            long v;
                            if (!long.TryParse(rec[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out v))
                                throw Malformed("archive/tar: invalid tar header");
                            paxSize = v;
                        }
                    }
                    p = next;
                    continue;
                }
                if (type == 'L') { longName = CStr(t, dataOff, (int)size); p = next; continue; }
                if (type == 'K') { p = next; continue; }
                if (longName != null) name = longName;
                if (paxPath != null) name = paxPath;
                if (paxSize.HasValue)
                {
                    size = paxSize.Value;
                    if (size > t.Length - (long)dataOff) throw Malformed("unexpected EOF");
                    next = (int)Math.Min(t.Length, dataOff + (size + 511) / 512 * 512);
                }
                longName = null; paxPath = null; paxSize = null;
                if (type == '\0') type = name.EndsWith("/", StringComparison.Ordinal) ? '5' : '0';
                if (type == '5')
                {
                    CheckPath(name.EndsWith("/", StringComparison.Ordinal) ? name.Substring(0, name.Length - 1) : name);
                    p = size > 0 ? next : dataOff;
                    continue;
                }
                if (type != '0') throw new BundleException(Outcome.UnsupportedEntry, Json.Quote(name), "unsupported archive entry: tar type " + Json.Quote(type.ToString()));
                int off = dataOff, len = (int)size;
                b.Add(name, size, () => { var d = new byte[len]; Array.Copy(t, off, d, 0, len); return d; }, lim);
                p = next;
            }
        }

        static string[] Pax(byte[] t, int off, int len)
        {
            var o = new string[2];
            int p = off, end = off + len;
            while (p < end)
            {
                int sp = p;
                while (sp < end && t[sp] != ' ') sp++;
                if (sp >= end) throw Malformed("archive/tar: invalid tar header");
                int n;
                if (!int.TryParse(Encoding.ASCII.GetString(t, p, sp - p), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n)
                    || n <= sp - p + 1 || p + n > end || t[p + n - 1] != '\n')
                    throw Malformed("archive/tar: invalid tar header");
                string rec = Encoding.UTF8.GetString(t, sp + 1, p + n - 1 - (sp + 1));
                int eq = rec.IndexOf('=');
                if (eq <= 0) throw Malformed("archive/tar: invalid tar header");
                string k = rec.Substring(0, eq), v = rec.Substring(eq + 1);
                if (k == "path") o[0] = v; else if (k == "size") o[1] = v;
                p += n;
            }
            return o;
        }

        // ---- directory --------------------------------------------------------------------------

        /// <summary>
        /// Reads a bundle directory in byte order. Symbolic links are followed only when they stay
        /// inside the directory and point at regular files.
        /// </summary>
        static BundleFiles ReadDir(string dir, Limits lim)
        {
            string root = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
            var b = new BundleFiles();
            Walk(root, root, "", b, lim);
            return b;
        }

        static void Walk(string root, string dir, string prefix, BundleFiles b, Limits lim)
        {
            var children = new List<string>(Directory.GetFileSystemEntries(dir));
            children.Sort((x, y) => new ByteOrder().Compare(Path.GetFileName(x), Path.GetFileName(y)));
            foreach (var c in children)
            {
                string rel = prefix + Path.GetFileName(c);
                var attrs = File.GetAttributes(c);
                bool link = (attrs & FileAttributes.ReparsePoint) != 0;
                if (!link && (attrs & FileAttributes.Directory) != 0) { Walk(root, c, rel + "/", b, lim); continue; }
                string target = c;
                if (link)
                {
                    target = Links.Resolve(c);
                    if (target == null) throw new BundleException(Outcome.UnsupportedEntry, rel, "unsupported archive entry: dangling symbolic link");
                    if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new BundleException(Outcome.UnsupportedEntry, rel, "unsupported archive entry: symbolic link leads outside the bundle");
                    if (!File.Exists(target) || (File.GetAttributes(target) & (FileAttributes.Directory | FileAttributes.ReparsePoint)) != 0)
                        throw new BundleException(Outcome.UnsupportedEntry, rel, "unsupported archive entry: symbolic link to a non-regular file");
                }
                else if (!Links.IsRegular(c))
                {
                    throw new BundleException(Outcome.UnsupportedEntry, rel, "unsupported archive entry: not a regular file");
                }
                long size = new FileInfo(target).Length;
                string t = target;
                b.Add(rel, size, () => File.ReadAllBytes(t), lim);
            }
        }
    }

    /// <summary>Symbolic-link resolution without platform-specific APIs (readlink via Mono.Unix is not assumed).</summary>
    internal static class Links
    {
        /// <summary>The final target of a link chain as an absolute path, or null when it dangles or loops.</summary>
        internal static string Resolve(string path)
        {
            string cur = Path.GetFullPath(path);
            for (int i = 0; i < 40; i++)
            {
                var fi = new FileInfo(cur);
                if ((fi.Attributes & FileAttributes.ReparsePoint) == 0) return File.Exists(cur) || Directory.Exists(cur) ? Canonical(cur) : null;
                string t = ReadLink(cur);
                if (t == null) return null;
                cur = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(cur), t));
            }
            return null;
        }

        /// <summary>The path with every directory component's links resolved.</summary>
        static string Canonical(string p)
        {
            string dir = Path.GetDirectoryName(p);
            if (dir == null) return p;
            string d = Resolve(dir) ?? dir;
            return Path.Combine(d, Path.GetFileName(p));
        }

        static string ReadLink(string p)
        {
            // FileSystemInfo.LinkTarget exists on .NET 6+; Mono has Mono.Unix. Use reflection so the
            // same source builds for netstandard2.0 and Mono without extra references.
            var fi = new FileInfo(p);
            var prop = typeof(FileSystemInfo).GetProperty("LinkTarget");
            if (prop != null) return prop.GetValue(fi) as string;
            var t = Type.GetType("Mono.Unix.UnixSymbolicLinkInfo, Mono.Posix");
            if (t != null)
            {
                var o = Activator.CreateInstance(t, p);
                var cp = t.GetProperty("ContentsPath");
                if (cp != null) return cp.GetValue(o) as string;
            }
            var rl = Native.ReadLink(p);
            return rl;
        }

        internal static bool IsRegular(string p)
        {
            // Devices, FIFOs and sockets are not directories and not links; on Unix their length
            // may be zero and File.Exists is true. Ask stat(2) when available.
            int mode = Native.Mode(p);
            return mode < 0 || (mode & 0xf000) == 0x8000;
        }
    }

    /// <summary>POSIX calls through libc when present (Linux/macOS); harmless elsewhere.</summary>
    internal static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
        static extern long readlink(string path, byte[] buf, ulong size);

        internal static string ReadLink(string p)
        {
            try
            {
                var buf = new byte[4096];
                long n = readlink(p, buf, (ulong)buf.Length);
                if (n <= 0) return null;
                return Encoding.UTF8.GetString(buf, 0, (int)n);
            }
            catch (Exception) { return null; }
        }

        /// <summary>The st_mode of p via the stat command-free route (Mono.Unix), or -1 when unknown.</summary>
        internal static int Mode(string p)
        {
            try
            {
                var t = Type.GetType("Mono.Unix.UnixFileInfo, Mono.Posix");
                if (t != null)
                {
                    var o = Activator.CreateInstance(t, p);
                    var ft = t.GetProperty("FileType").GetValue(o);
                    return Convert.ToInt32(ft) ;
                }
            }
            catch (Exception) { }
            return -1;
        }
    }
}
