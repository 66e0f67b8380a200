using System;
using System.Collections.Generic;
using System.IO;

namespace ScbKit.Loader.Tests
{
    /// <summary>Thrown by an assertion.</summary>
    public sealed class AssertionException : Exception { public AssertionException(string m) : base(m) { } }

    /// <summary>Thrown to skip a test; counted and named, never silent.</summary>
    public sealed class SkipException : Exception { public SkipException(string m) : base(m) { } }

    /// <summary>Assertions.</summary>
    public static class Assert
    {
        public static void True(bool c, string m = "expected true") { if (!c) throw new AssertionException(m); }
        public static void False(bool c, string m = "expected false") { if (c) throw new AssertionException(m); }
        public static void Equal<T>(T want, T got, string m = "")
        {
            if (!EqualityComparer<T>.Default.Equals(want, got)) throw new AssertionException((m.Length > 0 ? m + ": " : "") + "want <" + want + ">, got <" + got + ">");
        }
        public static T Throws<T>(Action a, string m = "") where T : Exception
        {
            try { a(); }
            catch (T e) { return e; }
            catch (Exception e) { throw new AssertionException((m.Length > 0 ? m + ": " : "") + "want " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message); }
            throw new AssertionException((m.Length > 0 ? m + ": " : "") + "want " + typeof(T).Name + ", nothing was thrown");
        }
        public static Outcome Rejects(Action a, string m = "") { return Throws<BundleException>(a, m).Outcome; }
    }

    /// <summary>
    /// A tiny test runner: each test is a named action; the closing line is exactly
    /// "dotnet: N passed, M failed" (plus ", K skipped" when some were skipped), and the exit
    /// code is non-zero when any test failed.
    /// </summary>
    public static class TestRunner
    {
        static readonly List<KeyValuePair<string, Action>> tests = new List<KeyValuePair<string, Action>>();

        public static void Add(string name, Action a) { tests.Add(new KeyValuePair<string, Action>(name, a)); }

        public static string RepoRoot()
        {
            var env = Environment.GetEnvironmentVariable("SCB_REPO_ROOT");
            if (!string.IsNullOrEmpty(env)) return env;
            var d = new DirectoryInfo(Directory.GetCurrentDirectory());
            while (d != null)
            {
                if (File.Exists(Path.Combine(d.FullName, "go.mod")) && Directory.Exists(Path.Combine(d.FullName, "spec"))) return d.FullName;
                d = d.Parent;
            }
            throw new InvalidOperationException("cannot find the repository root (set SCB_REPO_ROOT)");
        }

        public static bool CI
        {
            get { var v = Environment.GetEnvironmentVariable("CI"); return !string.IsNullOrEmpty(v) && v != "false" && v != "0"; }
        }

        public static int Main(string[] args)
        {
            VectorTests.Register();
            ArchiveTests.Register();
            CryptoTests.Register();
            LoaderTests.Register();
            ClusterTests.Register();
            string filter = args.Length > 0 ? args[0] : null;
            int passed = 0, failed = 0, skipped = 0;
            foreach (var t in tests)
            {
                if (filter != null && t.Key.IndexOf(filter, StringComparison.Ordinal) < 0) continue;
                var start = DateTime.UtcNow;
                try
                {
                    t.Value();
                    passed++;
                    Console.WriteLine("PASS " + t.Key + " (" + (int)(DateTime.UtcNow - start).TotalMilliseconds + " ms)");
                }
                catch (SkipException e)
                {
                    skipped++;
                    Console.WriteLine("SKIP " + t.Key + ": " + e.Message);
                }
                catch (Exception e)
                {
                    failed++;
                    var inner = e is System.Reflection.TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                    Console.WriteLine("FAIL " + t.Key + ": " + inner.GetType().Name + ": " + inner.Message);
                    if (!(inner is AssertionException)) Console.WriteLine(inner.StackTrace);
                }
            }
            Console.WriteLine("dotnet: " + passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
            return failed == 0 ? 0 : 1;
        }
    }
}
