using System;
using System.Numerics;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>A minimal, strict DER reader (definite, minimal lengths).</summary>
    internal sealed class Der
    {
        internal const int Sequence = 0x30, Set = 0x31, Integer = 0x02, BitString = 0x03, OctetString = 0x04,
            NullTag = 0x05, Oid = 0x06, UtcTime = 0x17, GeneralizedTime = 0x18, Boolean = 0x01;

        internal sealed class DerException : Exception { internal DerException(string m) : base(m) { } }

        internal sealed class Element
        {
            internal int Tag;
            internal byte[] Buf;
            internal int Start, ContentStart, End;

            internal byte[] Content() { var c = new byte[End - ContentStart]; Array.Copy(Buf, ContentStart, c, 0, c.Length); return c; }
            internal byte[] Encoded() { var c = new byte[End - Start]; Array.Copy(Buf, Start, c, 0, c.Length); return c; }
            internal Der Children() { return new Der(Buf, ContentStart, End); }

            internal BigInteger Int()
            {
                if (Tag != Integer) throw new DerException("expected INTEGER");
                var c = Content();
                if (c.Length == 0) throw new DerException("empty INTEGER");
                if (c.Length > 1 && ((c[0] == 0 && (c[1] & 0x80) == 0) || (c[0] == 0xff && (c[1] & 0x80) != 0)))
                    throw new DerException("INTEGER not minimally encoded");
                return Crypto.FromBigEndianSigned(c);
            }

            internal string OidString()
            {
                if (Tag != Oid) throw new DerException("expected OBJECT IDENTIFIER");
                var c = Content();
                if (c.Length == 0) throw new DerException("empty OBJECT IDENTIFIER");
                var b = new StringBuilder();
                long v = 0;
                bool first = true;
                for (int i = 0; i < c.Length; i++)
                {
                    if (v > (long.MaxValue >> 7)) throw new DerException("OBJECT IDENTIFIER too long");
                    v = (v << 7) + (c[i] & 0x7f);
                    if ((c[i] & 0x80) == 0)
                    {
                        if (first) { long a = v < 80 ? v / 40 : 2; b.Append(a).Append('.').Append(v - a * 40); first = false; }
                        else b.Append('.').Append(v);
                        v = 0;
                    }
                    else if (i == c.Length - 1) throw new DerException("truncated OBJECT IDENTIFIER");
                }
                return b.ToString();
            }

            /// <summary>The bits of a BIT STRING with no unused bits.</summary>
            internal byte[] Bits()
            {
                if (Tag != BitString) throw new DerException("expected BIT STRING");
                var c = Content();
                if (c.Length == 0) throw new DerException("empty BIT STRING");
                var o = new byte[c.Length - 1];
                Array.Copy(c, 1, o, 0, o.Length);
                return o;
            }
        }

        readonly byte[] buf;
        int pos;
        readonly int end;

        internal Der(byte[] buf) : this(buf, 0, buf.Length) { }
        internal Der(byte[] buf, int pos, int end) { this.buf = buf; this.pos = pos; this.end = end; }

        internal bool More { get { return pos < end; } }
        internal int PeekTag { get { return pos < end ? buf[pos] : -1; } }

        internal Element Next()
        {
            if (pos + 2 > end) throw new DerException("truncated DER");
            int start = pos;
            int tag = buf[pos++];
            if ((tag & 0x1f) == 0x1f) throw new DerException("high tag numbers not supported");
            int len = buf[pos++];
            if (len >= 0x80)
            {
                int n = len & 0x7f;
                if (n == 0 || n > 4) throw new DerException("unsupported DER length");
                if (pos + n > end) throw new DerException("truncated DER");
                if (buf[pos] == 0) throw new DerException("DER length not minimal");
                long l = 0;
                for (int i = 0; i < n; i++) l = (l << 8) | buf[pos++];
                if (l < 0x80 || l > int.MaxValue) throw new DerException("DER length not minimal");
                len = (int)l;
            }
            if (len > end - pos) throw new DerException("truncated DER");
            var e = new Element { Tag = tag, Buf = buf, Start = start, ContentStart = pos, End = pos + len };
            pos += len;
            return e;
        }

        internal Element Next(int tag)
        {
            var e = Next();
            if (e.Tag != tag) throw new DerException("unexpected DER tag");
            return e;
        }

        internal static Element ParseOne(byte[] data)
        {
            var d = new Der(data);
            var e = d.Next();
            if (d.More) throw new DerException("data after DER element");
            return e;
        }

        internal static byte[] Encode(int tag, params byte[][] parts)
        {
            int len = 0;
            foreach (var p in parts) len += p.Length;
            byte[] hdr;
            if (len < 0x80) hdr = new[] { (byte)tag, (byte)len };
            else if (len < 0x100) hdr = new[] { (byte)tag, (byte)0x81, (byte)len };
            else if (len < 0x10000) hdr = new[] { (byte)tag, (byte)0x82, (byte)(len >> 8), (byte)len };
            else hdr = new[] { (byte)tag, (byte)0x83, (byte)(len >> 16), (byte)(len >> 8), (byte)len };
            var o = new byte[hdr.Length + len];
            Array.Copy(hdr, o, hdr.Length);
            int off = hdr.Length;
            foreach (var p in parts) { Array.Copy(p, 0, o, off, p.Length); off += p.Length; }
            return o;
        }
    }
}
