using System;
using System.Collections.Generic;

namespace ScbKit.Loader
{
    /// <summary>
    /// The language-neutral class of a verification or loading result, with the names of the
    /// shared vector corpus (spec/vectors/vectors.json) and the Go verify package.
    /// </summary>
    public enum Outcome
    {
        Valid, Error, MalformedArchive, UnsafePath, TooLarge, UnsupportedEntry, Incomplete,
        MalformedMetadata, Unsigned, MalformedSignature, BadSignature, UnknownSigner,
        KeyOutsideValidity, MalformedManifest, DigestMismatch, ChainInvalid, Expired, NotYetValid,
        Inconsistent,
    }

    /// <summary>Wire names of <see cref="Outcome"/> values.</summary>
    public static class OutcomeNames
    {
        static readonly Dictionary<Outcome, string> names = new Dictionary<Outcome, string>
        {
            { Outcome.Valid, "valid" }, { Outcome.Error, "error" },
            { Outcome.MalformedArchive, "malformed_archive" }, { Outcome.UnsafePath, "unsafe_path" },
            { Outcome.TooLarge, "too_large" }, { Outcome.UnsupportedEntry, "unsupported_entry" },
            { Outcome.Incomplete, "incomplete" }, { Outcome.MalformedMetadata, "malformed_metadata" },
            { Outcome.Unsigned, "unsigned" }, { Outcome.MalformedSignature, "malformed_signature" },
            { Outcome.BadSignature, "bad_signature" }, { Outcome.UnknownSigner, "unknown_signer" },
            { Outcome.KeyOutsideValidity, "key_outside_validity" }, { Outcome.MalformedManifest, "malformed_manifest" },
            { Outcome.DigestMismatch, "digest_mismatch" }, { Outcome.ChainInvalid, "chain_invalid" },
            { Outcome.Expired, "expired" }, { Outcome.NotYetValid, "not_yet_valid" },
            { Outcome.Inconsistent, "inconsistent" },
        };

        /// <summary>The vector-corpus name, e.g. "digest_mismatch".</summary>
        public static string WireName(this Outcome o) { return names[o]; }

        /// <summary>The outcome with the given vector-corpus name.</summary>
        public static Outcome Parse(string name)
        {
            foreach (var kv in names) if (kv.Value == name) return kv.Key;
            throw new ArgumentException("unknown outcome");
        }
    }

    /// <summary>
    /// A bundle was rejected or could not be read. <see cref="Outcome"/> classifies the problem;
    /// <see cref="BundlePath"/> names the bundle file concerned, when there is one. Messages never
    /// contain key material, passwords or passphrases.
    /// </summary>
    public class BundleException : Exception
    {
        /// <summary>The class of the problem.</summary>
        public Outcome Outcome { get; private set; }
        /// <summary>The path inside the bundle the problem concerns, or null.</summary>
        public string BundlePath { get; private set; }

        /// <summary>A rejection.</summary>
        public BundleException(Outcome outcome, string path, string message, Exception inner = null)
            : base(string.IsNullOrEmpty(path) ? message : path + ": " + message, inner)
        {
            Outcome = outcome;
            BundlePath = path;
        }
    }

    /// <summary>
    /// Bounds on what is read from an untrusted archive (the Go reader's defaults: 1000 files,
    /// 8 MiB per file, 64 MiB in total; an archive file itself at most the total plus 1 MiB).
    /// </summary>
    public sealed class Limits
    {
        /// <summary>The defaults.</summary>
        public static readonly Limits Default = new Limits(0, 0, 0);
        /// <summary>Maximum number of entries.</summary>
        public int MaxFiles { get; private set; }
        /// <summary>Maximum size of one file.</summary>
        public long MaxFileSize { get; private set; }
        /// <summary>Maximum sum of file sizes.</summary>
        public long MaxTotalSize { get; private set; }
        /// <summary>The largest archive file read: the total plus 1 MiB.</summary>
        public long MaxArchiveSize { get { return MaxTotalSize + (1L << 20); } }

        /// <summary>Limits; zero or negative values take the default.</summary>
        public Limits(int maxFiles, long maxFileSize, long maxTotalSize)
        {
            MaxFiles = maxFiles > 0 ? maxFiles : 1000;
            MaxFileSize = maxFileSize > 0 ? maxFileSize : 8L << 20;
            MaxTotalSize = maxTotalSize > 0 ? maxTotalSize : 64L << 20;
        }
    }
}
