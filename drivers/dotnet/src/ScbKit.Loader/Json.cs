using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>
    /// A small, strict JSON reader (RFC 8259). Objects become ordered dictionaries
    /// (<see cref="JsonObject"/>), arrays List&lt;object&gt;, strings string, numbers
    /// <see cref="JsonNumber"/> (the literal text), true/false bool and null <see cref="Null"/>.
    /// Errors never quote input beyond an offset or a short member name.
    /// </summary>
    internal sealed class Json
    {
        internal static readonly object Null = new object();

        internal sealed class JsonNumber
        {
            internal readonly string Text;
            internal JsonNumber(string t) { Text = t; }
            /// <summary>The value when the literal is an integer, else null.</summary>
            internal BigInteger? Integer()
            {
                if (Text.IndexOfAny(new[] { '.', 'e', 'E' }) >= 0) return null;
                return BigInteger.Parse(Text, CultureInfo.InvariantCulture);
            }
            public override string ToString() { return Text; }
        }

        internal sealed class JsonObject : List<KeyValuePair<string, object>>
        {
            internal bool Has(string k) { foreach (var kv in this) if (kv.Key == k) return true; return false; }
            internal object Get(string k)
            {
                object v = null;
                foreach (var kv in this) if (kv.Key == k) v = kv.Value; // last wins
                return v;
            }
            internal IEnumerable<string> Keys { get { foreach (var kv in this) yield return kv.Key; } }
        }

        internal sealed class JsonException : Exception { internal JsonException(string m) : base(m) { } }

        const int MaxDepth = 256;
        readonly string s;
        readonly bool rejectDuplicates;
        int pos, depth;

        Json(string s, bool rejectDuplicates) { this.s = s; this.rejectDuplicates = rejectDuplicates; }

        internal static object Parse(byte[] data, bool rejectDuplicates)
        {
            var p = new Json(Encoding.UTF8.GetString(data), rejectDuplicates);
            p.Ws();
            var v = p.Value();
            p.Ws();
            if (p.pos != p.s.Length) throw new JsonException("data after the JSON value at offset " + p.pos);
            return v;
        }

        internal static object ParseFirst(byte[] data)
        {
            var p = new Json(Encoding.UTF8.GetString(data), false);
            p.Ws();
            return p.Value();
        }

        internal static JsonObject ParseObject(byte[] data, bool rejectDuplicates)
        {
            var o = Parse(data, rejectDuplicates) as JsonObject;
            if (o == null) throw new JsonException("not a JSON object");
            return o;
        }

        void Ws() { while (pos < s.Length && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) pos++; }
        JsonException Err(string what) { return new JsonException(what + " at offset " + pos); }

        object Value()
        {
            if (pos >= s.Length) throw Err("truncated JSON");
            char c = s[pos];
            switch (c)
            {
                case '{': return Obj();
                case '[': return Arr();
                case '"': return Str();
                case 't': return Lit("true", true);
                case 'f': return Lit("false", false);
                case 'n': return Lit("null", Null);
            }
            if (c == '-' || (c >= '0' && c <= '9')) return Num();
            throw Err("invalid JSON");
        }

        object Lit(string w, object v)
        {
            if (string.CompareOrdinal(s, pos, w, 0, w.Length) != 0) throw Err("invalid JSON");
            pos += w.Length;
            return v;
        }

        JsonObject Obj()
        {
            if (++depth > MaxDepth) throw Err("JSON nested too deeply");
            pos++;
            var m = new JsonObject();
            Ws();
            if (pos < s.Length && s[pos] == '}') { pos++; depth--; return m; }
            while (true)
            {
                Ws();
                if (pos >= s.Length || s[pos] != '"') throw Err("expected a member name");
                string name = Str();
                Ws();
                if (pos >= s.Length || s[pos] != ':') throw Err("expected ':'");
                pos++;
                Ws();
                object v = Value();
                if (m.Has(name))
                {
                    if (rejectDuplicates) throw new JsonException("duplicate member " + Quote(name));
                    m.RemoveAll(kv => kv.Key == name);
                }
                m.Add(new KeyValuePair<string, object>(name, v));
                Ws();
                if (pos >= s.Length) throw Err("truncated JSON");
                char c = s[pos++];
                if (c == '}') { depth--; return m; }
                if (c != ',') throw Err("expected ',' or '}'");
            }
        }

        List<object> Arr()
        {
            if (++depth > MaxDepth) throw Err("JSON nested too deeply");
            pos++;
            var l = new List<object>();
            Ws();
            if (pos < s.Length && s[pos] == ']') { pos++; depth--; return l; }
            while (true)
            {
                Ws();
                l.Add(Value());
                Ws();
                if (pos >= s.Length) throw Err("truncated JSON");
                char c = s[pos++];
                if (c == ']') { depth--; return l; }
                if (c != ',') throw Err("expected ',' or ']'");
            }
        }

        string Str()
        {
            pos++;
            var b = new StringBuilder();
            while (true)
            {
                if (pos >= s.Length) throw Err("truncated JSON string");
                char c = s[pos++];
                if (c == '"') return b.ToString();
                if (c < 0x20) throw Err("control character in JSON string");
                if (c != '\\') { b.Append(c); continue; }
                if (pos >= s.Length) throw Err("truncated JSON string");
                char e = s[pos++];
                switch (e)
                {
                    case '"': case '\\': case '/': b.Append(e); break;
                    case 'b': b.Append('\b'); break;
                    case 'f': b.Append('\f'); break;
                    case 'n': b.Append('\n'); break;
                    case 'r': b.Append('\r'); break;
                    case 't': b.Append('\t'); break;
                    case 'u':
                        if (pos + 4 > s.Length) throw Err("truncated \\u escape");
                        int v;
                        if (!int.TryParse(s.Substring(pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v)) throw Err("malformed \\u escape");
                        pos += 4;
                        b.Append((char)v);
                        break;
                    default: throw Err("malformed escape in JSON string");
                }
            }
        }

        JsonNumber Num()
        {
            int start = pos;
            if (s[pos] == '-') pos++;
            if (pos >= s.Length) throw Err("malformed number");
            if (s[pos] == '0') pos++;
            else if (s[pos] >= '1' && s[pos] <= '9') { while (pos < s.Length && s[pos] >= '0' && s[pos] <= '9') pos++; }
            else throw Err("malformed number");
            if (pos < s.Length && s[pos] == '.') { pos++; Digits(); }
            if (pos < s.Length && (s[pos] == 'e' || s[pos] == 'E'))
            {
                pos++;
                if (pos < s.Length && (s[pos] == '+' || s[pos] == '-')) pos++;
                Digits();
            }
            return new JsonNumber(s.Substring(start, pos - start));
        }

        void Digits()
        {
            int start = pos;
            while (pos < s.Length && s[pos] >= '0' && s[pos] <= '9') pos++;
            if (pos == start) throw Err("malformed number");
        }

        internal static string Quote(string name)
        {
            string n = name.Length > 64 ? name.Substring(0, 64) + "..." : name;
            var b = new StringBuilder("\"");
            foreach (char c in n)
            {
                if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) b.AppendFormat("\\u{0:x4}", (int)c);
                else b.Append(c);
            }
            return b.Append('"').ToString();
        }

        /// <summary>Encodes a string as Go's encoding/json does with HTML escaping off.</summary>
        internal static void EncodeString(StringBuilder b, string v)
        {
            b.Append('"');
            foreach (char c in v)
            {
                switch (c)
                {
                    case '"': b.Append("\\\""); break;
                    case '\\': b.Append("\\\\"); break;
                    case '\n': b.Append("\\n"); break;
                    case '\r': b.Append("\\r"); break;
                    case '\t': b.Append("\\t"); break;
                    case '\b': b.Append("\\b"); break;
                    case '\f': b.Append("\\f"); break;
                    case '\u2028': b.Append("\\u2028"); break;
                    case '\u2029': b.Append("\\u2029"); break;
                    default:
                        if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c); else b.Append(c);
                        break;
                }
            }
            b.Append('"');
        }
    }

    /// <summary>Strict base64 with Go's rules (standard+padding, or raw URL); CR/LF ignored.</summary>
    internal static class Base64Strict
    {
        const string Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const string Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        internal static byte[] DecodeStd(string s) { return Decode(s, Std, true); }
        internal static byte[] DecodeRawUrl(string s) { return Decode(s, Url, false); }

        static byte[] Decode(string input, string alphabet, bool padded)
        {
            var sb = new StringBuilder(input.Length);
            foreach (char c in input) if (c != '\r' && c != '\n') sb.Append(c);
            string s = sb.ToString();
            int pad = 0;
            if (padded)
            {
                if (s.Length % 4 != 0) return null;
                while (pad < 2 && s.Length - pad > 0 && s[s.Length - 1 - pad] == '=') pad++;
                s = s.Substring(0, s.Length - pad);
            }
            if (s.Length % 4 == 1) return null;
            var out_ = new List<byte>(s.Length * 3 / 4 + 3);
            int buf = 0, bits = 0;
            foreach (char c in s)
            {
                int v = alphabet.IndexOf(c);
                if (v < 0) return null;
                buf = (buf << 6) | v;
                bits += 6;
                if (bits >= 8) { bits -= 8; out_.Add((byte)((buf >> bits) & 0xff)); }
            }
            if (bits > 0 && (buf & ((1 << bits) - 1)) != 0) return null;
            if (padded)
            {
                int rem = s.Length % 4;
                if ((rem == 0 && pad != 0) || (rem == 2 && pad != 2) || (rem == 3 && pad != 1)) return null;
            }
            return out_.ToArray();
        }
    }
}
