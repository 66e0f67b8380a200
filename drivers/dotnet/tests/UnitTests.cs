using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ScbKit.Loader.Tests
{
    /// <summary>Hostile archives: safe paths, links, duplicates, sizes, corruption.</summary>
    public static class ArchiveTests
    {
        static Outcome Reject(byte[] z, Limits lim = null)
        {
            var e = Assert.Throws<BundleException>(() => BundleFiles.Decode(z, lim ?? Limits.Default));
            Assert.False(e.Message.Contains("SECRET"), "error echoes content: " + e.Message);
            return e.Outcome;
        }

        public static void Register()
        {
            TestRunner.Add("archive/reads-entries-and-skips-directories", () =>
            {
                var dir = new Support.ZipEntry("certificates/", "") { Mode = Convert.ToInt64("40700", 8) };
                var stored = new Support.ZipEntry("a/b.txt", "hello") { Deflate = false };
                var b = BundleFiles.Decode(Support.Zip(dir, new Support.ZipEntry("certificates/ca-cert.pem", "pem"), stored), Limits.Default);
                Assert.Equal("a/b.txt,certificates/ca-cert.pem", string.Join(",", b.Paths.ToArray()));
                Assert.Equal("hello", Encoding.UTF8.GetString(b.Get("a/b.txt")));
            });
            foreach (var name in new[] { "../evil", "a/../../evil", "/etc/passwd", "a\\b", "C:evil", "a//b", "./a", "a/./b", "", "a\u0000b", "a\nb", new string('a', 513) })
            {
                var n = name;
                TestRunner.Add("archive/unsafe-name " + Json.Quote(n.Length > 20 ? n.Substring(0, 20) + "…" : n), () =>
                    Assert.Equal(Outcome.UnsafePath, Reject(Support.Zip(new Support.ZipEntry("ok", "x"), new Support.ZipEntry(n, "SECRET")))));
            }
            TestRunner.Add("archive/duplicate-entry", () => Assert.Equal(Outcome.MalformedArchive, Reject(Support.Zip(new Support.ZipEntry("key", "a"), new Support.ZipEntry("key", "b")))));
            TestRunner.Add("archive/links-and-special-files", () =>
            {
                foreach (var mode in new[] { "120777", "20600", "60600", "10600", "140600" })
                    Assert.Equal(Outcome.UnsupportedEntry, Reject(Support.Zip(new Support.ZipEntry("key", "/etc/passwd") { Mode = Convert.ToInt64(mode, 8) })), mode);
            });
            TestRunner.Add("archive/declared-size-over-limit", () =>
                Assert.Equal(Outcome.TooLarge, Reject(Support.Zip(new Support.ZipEntry("big", "small") { DeclaredSize = 9L << 20 }))));
            TestRunner.Add("archive/deflate-bomb-is-bounded", () =>
                Assert.Equal(Outcome.MalformedArchive, Reject(Support.Zip(new Support.ZipEntry("bomb", new byte[20 << 20]) { DeclaredSize = 10 }))));
            TestRunner.Add("archive/count-and-total-limits", () =>
            {
                var many = new List<Support.ZipEntry>();
                for (int i = 0; i < 11; i++) many.Add(new Support.ZipEntry("f" + i, "x"));
                Assert.Equal(Outcome.TooLarge, Reject(Support.Zip(many.ToArray()), new Limits(10, 0, 0)));
                Assert.Equal(Outcome.TooLarge, Reject(Support.Zip(new Support.ZipEntry("a", new byte[600]), new Support.ZipEntry("b", new byte[600])), new Limits(0, 1000, 1000)));
            });
            TestRunner.Add("archive/corruption", () =>
            {
                Assert.Equal(Outcome.MalformedArchive, Reject(Support.Zip(new Support.ZipEntry("key", "SECRET data") { Crc = 1 })));
                var good = Support.Zip(new Support.ZipEntry("key", "SECRET data"));
                var cut = new byte[good.Length - 10];
                Array.Copy(good, cut, cut.Length);
                Assert.Equal(Outcome.MalformedArchive, Reject(cut));
                Assert.Equal(Outcome.MalformedArchive, Reject(Encoding.UTF8.GetBytes("not an archive")));
                Assert.Equal(Outcome.MalformedArchive, Reject(new byte[0]));
            });
            TestRunner.Add("archive/random-corruption-stays-classified", () =>
            {
                var good = Support.Zip(new Support.ZipEntry("metadata.json", "{}"), new Support.ZipEntry("certificates/ca-cert.pem", new string('x', 300)));
                var rnd = new Random(42);
                for (int i = 0; i < 1000; i++)
                {
                    var z = (byte[])good.Clone();
                    for (int j = 0; j < 1 + rnd.Next(4); j++) z[rnd.Next(z.Length)] = (byte)rnd.Next(256);
                    try { BundleFiles.Decode(z, new Limits(0, 1 << 16, 1 << 20)); }
                    catch (BundleException e) { Assert.True(e.Outcome != Outcome.Valid && e.Outcome != Outcome.Error, e.Message); }
                }
            });
            TestRunner.Add("archive/directory-links-stay-inside", () =>
            {
                string tmp = Support.TempDir();
                try
                {
                    string d = Path.Combine(tmp, "bundle");
                    Directory.CreateDirectory(Path.Combine(d, "certificates"));
                    File.WriteAllText(Path.Combine(d, "certificates", "ca-cert.pem"), "pem");
                    Support.Run("ln", new[] { "-s", Path.Combine(d, "certificates", "ca-cert.pem"), Path.Combine(d, "ca.crt") }, null);
                    var b = BundleFiles.Read(d, Limits.Default);
                    Assert.Equal("ca.crt,certificates/ca-cert.pem", string.Join(",", b.Paths.ToArray()));
                    File.WriteAllText(Path.Combine(tmp, "outside"), "SECRET");
                    Support.Run("ln", new[] { "-s", Path.Combine(tmp, "outside"), Path.Combine(d, "key") }, null);
                    Assert.Equal(Outcome.UnsupportedEntry, Assert.Rejects(() => BundleFiles.Read(d, Limits.Default)));
                }
                finally { Support.DeleteTree(tmp); }
            });
        }
    }

    /// <summary>The managed verifiers against known answers.</summary>
    public static class CryptoTests
    {
        public static void Register()
        {
            TestRunner.Add("crypto/ed25519-rfc8032-test-1", () =>
            {
                var seed = Support.Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
                var pub = Support.Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
                var sig = Support.Hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
                Assert.Equal(Cert.Hex(pub), Cert.Hex(Crypto.Ed25519Public(seed)));
                Assert.True(Crypto.Ed25519Verify(pub, new byte[0], sig), "valid signature refused");
                sig[10] ^= 1;
                Assert.False(Crypto.Ed25519Verify(pub, new byte[0], sig), "tampered signature accepted");
            });
            TestRunner.Add("crypto/ecdsa-der-strictness", () =>
            {
                var der = Der.Encode(Der.Sequence, Der.Encode(Der.Integer, new byte[] { 1 }), Der.Encode(Der.Integer, new byte[] { 2 }));
                System.Numerics.BigInteger r, s;
                Assert.True(Crypto.ParseDerSignature(der, out r, out s));
                Assert.False(Crypto.ParseDerSignature(Der.Encode(Der.Sequence, Der.Encode(Der.Integer, new byte[] { 0, 1 }), Der.Encode(Der.Integer, new byte[] { 2 })), out r, out s), "non-minimal INTEGER");
                Assert.False(Crypto.ParseDerSignature(TrustedKeys.Concat(der, new byte[] { 0 }), out r, out s), "trailing byte");
                Assert.False(Crypto.ParseDerSignature(new byte[64], out r, out s), "fixed-width r||s");
                Assert.False(Crypto.ParseDerSignature(Der.Encode(Der.Sequence, Der.Encode(Der.Integer, new byte[] { 0xff }), Der.Encode(Der.Integer, new byte[] { 2 })), out r, out s), "negative r");
            });
            TestRunner.Add("crypto/pae-matches-the-spec-example", () =>
                Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world", Encoding.UTF8.GetString(Dsse.Pae("http://example.com/HelloWorld", Encoding.UTF8.GetBytes("hello world")))));
            TestRunner.Add("crypto/key-ids-match-the-vector-index", () =>
            {
                var keys = TrustedKeys.Read(Path.Combine(VectorTests.Dir, "keys", "trusted.jwks.json"));
                Assert.Equal(5, keys.Count);
                foreach (var name in new[] { "signer-p256", "signer-ed25519", "current-p384", "signer-rsa3072", "retired-p256" })
                {
                    var pem = TrustedKeys.Read(Path.Combine(VectorTests.Dir, "keys", name + ".pub.pem"));
                    Assert.True(keys.Get(pem.KeyIds[0]) != null, name + ": PEM and JWKS key ids differ");
                }
                Assert.Equal(new DateTime(2025, 2, 1, 0, 0, 0, DateTimeKind.Utc), keys.Get("e98ec61e4d23ee4e3bd8fc0472a3a8b576647e7d5b5845850b5e9073211d82fc").NotBefore.Value);
            });
            TestRunner.Add("crypto/key-set-rules", () =>
            {
                string jwks = File.ReadAllText(Path.Combine(VectorTests.Dir, "keys", "trusted.jwks.json"));
                var bad = new List<string>
                {
                    ReplaceFirst(jwks, "\"use\": \"sig\"", "\"use\": \"sig\", \"d\": \"AAAA\""),
                    ReplaceFirst(jwks, "\"kid\": \"d7", "\"kid\": \"e7"),
                    ReplaceFirst(jwks, "\"alg\": \"ES256\"", "\"alg\": \"ES384\""),
                    ReplaceFirst(jwks, "\"use\": \"sig\"", "\"use\": \"enc\""),
                    ReplaceFirst(jwks, "\"use\": \"sig\"", "\"use\": \"sig\", \"nbf\": 1.5"),
                    ReplaceFirst(jwks, "\"use\": \"sig\"", "\"use\": \"sig\", \"nbf\": 200, \"exp\": 100"),
                    ReplaceFirst(jwks, "\"x\": \"6ioi", "\"x\": \"7ioi"),
                    ReplaceFirst(jwks, "\"use\": \"sig\"", "\"use\": \"sig\", \"use\": \"sig\""),
                    "{\"keys\": []}", "{}", "",
                    File.ReadAllText(Path.Combine(VectorTests.Dir, "keys", "private", "signer-p256.key.pem")),
                    File.ReadAllText(Path.Combine(VectorTests.Dir, "keys", "signer-p256.pub.pem")) + "junk",
                };
                foreach (var s in bad)
                {
                    var e = Assert.Throws<TrustedKeys.KeySetException>(() => TrustedKeys.Parse(Encoding.UTF8.GetBytes(s)), s.Length > 60 ? s.Substring(0, 60) : s);
                    Assert.False(e.Message.Contains("AAAA") || e.Message.Contains("PRIVATE KEY-----\n"), e.Message);
                }
            });
            TestRunner.Add("crypto/base64-is-strict", () =>
            {
                Assert.Equal("hello", Encoding.UTF8.GetString(Base64Strict.DecodeStd("aGVsbG8=")));
                Assert.True(Base64Strict.DecodeStd("aGVsbG8") == null);
                Assert.True(Base64Strict.DecodeStd("aGVsbG9=") == null, "non-zero padding bits");
                Assert.True(Base64Strict.DecodeRawUrl("aGVsbG8=") == null);
            });
        }

        internal static string ReplaceFirst(string s, string a, string b)
        {
            int i = s.IndexOf(a, StringComparison.Ordinal);
            return i < 0 ? s : s.Substring(0, i) + b + s.Substring(i + a.Length);
        }
    }

    /// <summary>Loading: what comes out, what is refused, what never leaks.</summary>
    public static class LoaderTests
    {
        static readonly DateTime T = new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc);
        static string Bundle(string name) { return Path.Combine(VectorTests.Dir, "bundles", name); }

        public static void Register()
        {
            TestRunner.Add("loader/zip-targz-and-directory", () =>
            {
                var zip = ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T });
                var tgz = ScbBundle.Load(Bundle("valid-p256.tar.gz"), new LoadOptions { Now = T });
                string tmp = Support.TempDir();
                try
                {
                    var files = BundleFiles.Read(Bundle("valid-p256.zip"), Limits.Default);
                    foreach (var p in files.Paths)
                    {
                        var f = Path.Combine(tmp, "b", p.Replace('/', Path.DirectorySeparatorChar));
                        Directory.CreateDirectory(Path.GetDirectoryName(f));
                        File.WriteAllBytes(f, files.Get(p));
                    }
                    var dir = ScbBundle.Load(Path.Combine(tmp, "b"), new LoadOptions { Now = T });
                    foreach (var b in new[] { zip, tgz, dir })
                    {
                        Assert.True(b.ContactPoints.Count > 0);
                        Assert.Equal(zip.ContactPoints[0].ToString(), b.ContactPoints[0].ToString());
                        Assert.True(b.LocalDatacenter.Length > 0);
                        Assert.Equal(1, b.CaCertificates.Count);
                        Assert.Equal(zip.Metadata.BundleId, b.Metadata.BundleId);
                    }
                    Assert.True(dir.ArchiveBytes == null);
                    Assert.Equal(new FileInfo(Bundle("valid-p256.zip")).Length, (long)zip.ArchiveBytes.Length);
                    Assert.Equal(zip.Metadata.CaFingerprint, Cert.Hex(Crypto.Hash("SHA256", zip.CaCertificates[0].RawData)));
                }
                finally { Support.DeleteTree(tmp); }
            });
            TestRunner.Add("loader/refuses-broken-bundles", () =>
            {
                var cases = new Dictionary<string, Outcome>
                {
                    { "tampered-file.zip", Outcome.DigestMismatch }, { "uncovered-file.zip", Outcome.DigestMismatch },
                    { "foreign-ca.zip", Outcome.ChainInvalid }, { "expired.zip", Outcome.Expired },
                    { "path-traversal.zip", Outcome.UnsafePath }, { "symlink.tar.gz", Outcome.UnsupportedEntry }, { "not-an-archive.zip", Outcome.MalformedArchive },
                };
                foreach (var c in cases) Assert.Equal(c.Value, Assert.Rejects(() => ScbBundle.Load(Bundle(c.Key), new LoadOptions { Now = T })), c.Key);
                Assert.Equal(Outcome.NotYetValid, Assert.Rejects(() => ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = new DateTime(2024, 12, 2, 0, 0, 0, DateTimeKind.Utc) })));
                ScbBundle.Load(Bundle("expired.zip"), new LoadOptions { Now = T, InsecureAllowExpired = true });
            });
            TestRunner.Add("loader/trusted-keys-turn-verification-on", () =>
            {
                var keys = TrustedKeys.Read(Path.Combine(VectorTests.Dir, "keys", "trusted.jwks.json"));
                ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T, TrustedKeys = keys });
                Assert.Equal(Outcome.Unsigned, Assert.Rejects(() => ScbBundle.Load(Bundle("unsigned.zip"), new LoadOptions { Now = T, TrustedKeys = keys })));
                Assert.Equal(Outcome.BadSignature, Assert.Rejects(() => ScbBundle.Load(Bundle("forged-signature.zip"), new LoadOptions { Now = T, TrustedKeys = keys })));
                Assert.Equal(Outcome.UnknownSigner, Assert.Rejects(() => ScbBundle.Load(Bundle("unknown-signer.zip"), new LoadOptions { Now = T, TrustedKeys = keys })));
                var b = ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T });
                var r = b.Verify(keys, new VerifyOptions { Now = T });
                Assert.Equal("d7c35ede4bde2e84dcca2bc5d9cd76ac08fc38794b058debee6730a86855411a", r.SignedBy[0]);
            });
            TestRunner.Add("loader/credential-precedence-and-redaction", () =>
            {
                var env = new Dictionary<string, string> { { ScbBundle.EnvUsername, "env-user" }, { ScbBundle.EnvPassword, "env-secret-pw" } };
                var none = ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T });
                Assert.True(none.Username == null && none.Password == null);
                var fromEnv = ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T, Environment = env });
                Assert.Equal("env-user", fromEnv.Username);
                var files = BundleFiles.Read(Bundle("valid-p256.zip"), Limits.Default);
                var cfg = Encoding.UTF8.GetString(files.Get(BundleFiles.CloudConfig));
                files.Put(BundleFiles.CloudConfig, Encoding.UTF8.GetBytes(CryptoTests.ReplaceFirst(cfg, "{", "{\"username\": \"json-user\", \"password\": \"json-secret-pw\",")));
                files.Remove(BundleFiles.Signature);
                files.Put(BundleFiles.Manifest, Manifest.Of(files).Encode());
                var fromJson = ScbBundle.Load(files, new LoadOptions { Now = T, Environment = env });
                Assert.Equal("json-user", fromJson.Username);
                Assert.Equal("json-secret-pw", fromJson.Password);
                var explicit_ = ScbBundle.Load(files, new LoadOptions { Now = T, Environment = env, Username = "me", Password = "mine-secret" });
                Assert.Equal("me", explicit_.Username);
                foreach (var s in new[] { fromJson.ToString(), explicit_.ToString(), new LoadOptions { Password = "mine-secret", KeyPassphrase = new byte[] { 1 } }.ToString(), fromJson.Metadata.ToString() })
                    Assert.False(s.Contains("secret-pw") || s.Contains("mine-secret"), s);
                files.Put(BundleFiles.CloudConfig, Encoding.UTF8.GetBytes("{\"password\": \"json-secret-pw\" oops"));
                files.Put(BundleFiles.Manifest, Manifest.Of(files).Encode());
                var e = Assert.Throws<BundleException>(() => ScbBundle.Load(files, new LoadOptions { Now = T }));
                Assert.False(e.Message.Contains("secret-pw"), e.Message);
            });
            TestRunner.Add("loader/client-certificate-from-cert-pfx", () =>
            {
                // The vector bundles carry the default AES-256 cert.pfx. .NET Core reads it; Mono
                // cannot, and must say so with the remedy rather than fail obscurely.
                var b = ScbBundle.Load(Bundle("valid-p256.zip"), new LoadOptions { Now = T });
                try { Assert.True(b.ClientCertificate.HasPrivateKey); }
                catch (BundleException e)
                {
                    Assert.Equal(Outcome.Error, e.Outcome);
                    Assert.True(e.Message.Contains("legacy-3des"), e.Message);
                    if (Type.GetType("Mono.Runtime") == null) throw;
                }
                Assert.Equal(Cert.Hex(b.ClientCertificateWithoutKey.RawData), Cert.Hex(Pem.Certificates(BundleFiles.Read(Bundle("valid-p256.zip"), Limits.Default).Get(BundleFiles.ClientCert))[0].Raw));
            });
            TestRunner.Add("loader/cli-bundles-in-every-format-and-legacy-pfx", () =>
            {
                string tmp = Support.TempDir();
                try
                {
                    foreach (var f in new[] { "zip", "tar.gz", "dir" })
                    {
                        string o = Path.Combine(tmp, "b." + f);
                        Support.ScbRun(tmp, "generate", "--cluster", "orders", "--client", "net-" + f.Replace(".", ""), "--environment", "development",
                            "--contact-point", "10.0.0.5:9042", "--contact-point", "[::1]:9043", "--datacenter", "dc1", "--format", f,
                            "--pkcs12-cipher", "legacy-3des", "--out", o);
                        var b = ScbBundle.Load(o);
                        Assert.Equal("dc1", b.LocalDatacenter);
                        Assert.Equal("10.0.0.5:9042", b.ContactPoints[0].ToString());
                        Assert.Equal("[::1]:9043", b.ContactPoints[1].ToString());
                        Assert.True(b.ClientCertificate.HasPrivateKey, f + ": no private key");
                        var r = ScbBundle.VerifyFile(o, null, null);
                        Assert.True(r.IsValid, f + ": " + r);
                    }
                }
                finally { Support.DeleteTree(tmp); }
            });
            TestRunner.Add("loader/encrypted-key-needs-its-passphrase", () =>
            {
                string tmp = Support.TempDir();
                try
                {
                    string pass = Path.Combine(tmp, "pass");
                    File.WriteAllText(pass, "correct horse battery staple\n");
                    Support.Run("chmod", new[] { "600", pass }, null);
                    string o = Path.Combine(tmp, "enc.zip");
                    Support.ScbRun(tmp, "generate", "--cluster", "enc", "--client", "app", "--environment", "development", "--contact-point", "127.0.0.1:9042",
                        "--key-passphrase-file", pass, "--out", o);
                    ScbBundle.Load(o);
                    var pp = Encoding.UTF8.GetBytes("correct horse battery staple");
                    ScbBundle.Load(o, new LoadOptions { KeyPassphrase = pp });
                    Assert.Equal(Outcome.Error, Assert.Rejects(() => ScbBundle.Load(o, new LoadOptions { KeyPassphrase = Encoding.UTF8.GetBytes("wrong") })));
                    Assert.True(ScbBundle.VerifyFile(o, null, null, new VerifyOptions { KeyPassphrase = pp }).IsValid);
                    var warn = ScbBundle.VerifyFile(o, null, null);
                    Assert.True(warn.IsValid, warn.ToString());
                    Assert.True(warn.ToString().Contains("consistency: warn"), warn.ToString());
                }
                finally { Support.DeleteTree(tmp); }
            });
            TestRunner.Add("loader/nothing-written-next-to-the-bundle", () =>
            {
                string tmp = Support.TempDir();
                try
                {
                    string z = Path.Combine(tmp, "app.zip");
                    File.Copy(Bundle("valid-p256.zip"), z);
                    ScbBundle.Load(z, new LoadOptions { Now = T });
                    ScbBundle.VerifyFile(z, null, null, new VerifyOptions { Now = T });
                    Assert.Equal(1, Directory.GetFileSystemEntries(tmp).Length);
                }
                finally { Support.DeleteTree(tmp); }
            });
        }
    }
}
