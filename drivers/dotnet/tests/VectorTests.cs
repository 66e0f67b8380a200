using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ScbKit.Loader.Tests
{
    /// <summary>Every vector of spec/vectors/vectors.json: outcome, failing check and signers.</summary>
    public static class VectorTests
    {
        public static string Dir { get { return Path.Combine(TestRunner.RepoRoot(), "spec", "vectors"); } }

        static Json.JsonObject Index() { return Json.ParseObject(File.ReadAllBytes(Path.Combine(Dir, "vectors.json")), false); }

        public static void Register()
        {
            List<object> vectors;
            try { vectors = (List<object>)Index().Get("vectors"); }
            catch (Exception e) { TestRunner.Add("vectors/index", () => { throw new AssertionException("cannot read vectors.json: " + e.Message); }); return; }
            TestRunner.Add("vectors/corpus-is-there", () => Assert.True(vectors.Count >= 30, "expected the full corpus, found " + vectors.Count));
            foreach (var o in vectors)
            {
                var v = (Json.JsonObject)o;
                TestRunner.Add("vectors/" + (string)v.Get("name"), () => Run(v));
            }
        }

        static void Run(Json.JsonObject v)
        {
            TrustedKeys keys = null;
            if (v.Get("trusted_keys") is string) keys = TrustedKeys.Read(Path.Combine(Dir, (string)v.Get("trusted_keys")));
            var lim = (Json.JsonObject)v.Get("limits");
            var opts = new VerifyOptions
            {
                Now = DateTime.Parse((string)v.Get("verify_at"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal),
                Threshold = int.Parse(v.Get("threshold").ToString()),
                Limits = new Limits(int.Parse(lim.Get("max_files").ToString()), long.Parse(lim.Get("max_file_size").ToString()), long.Parse(lim.Get("max_total_size").ToString())),
            };
            string sig = v.Get("detached_signature") is string ? Path.Combine(Dir, (string)v.Get("detached_signature")) : null;
            var r = ScbBundle.VerifyFile(Path.Combine(Dir, (string)v.Get("file")), sig, keys, opts);
            var expect = (Json.JsonObject)v.Get("expect");
            Assert.Equal((string)expect.Get("outcome"), r.Outcome.WireName(), r.ToString());
            var check = expect.Get("check") as string;
            if (check == null) Assert.True(r.FirstFailure == null, r.ToString());
            else Assert.Equal(check, r.FirstFailure.Check.WireName(), r.ToString());
            var signers = expect.Get("signers") as List<object>;
            if (signers != null)
            {
                var want = new List<string>();
                foreach (var s in signers) want.Add((string)s);
                Assert.Equal(string.Join(",", want.ToArray()), string.Join(",", new List<string>(r.SignedBy).ToArray()), "signers");
            }
        }
    }
}
