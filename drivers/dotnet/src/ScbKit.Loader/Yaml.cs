using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>
    /// A reader for the YAML subset scbkit writes in config/cassandra.yaml: block mappings, block
    /// sequences of scalars, plain and quoted scalars, comments, empty flow collections and
    /// simple flow sequences. Anything else is rejected, not guessed. Scalars are strings.
    /// </summary>
    internal sealed class Yaml
    {
        internal sealed class YamlException : Exception { internal YamlException(string m) : base(m) { } }

        sealed class Line { internal int No, Indent; internal string Text; }

        readonly List<Line> lines = new List<Line>();
        int pos;

        internal static Dictionary<string, object> ParseMapping(byte[] data)
        {
            var y = new Yaml();
            string[] raw = Encoding.UTF8.GetString(data).Split('\n');
            for (int i = 0; i < raw.Length; i++)
            {
                string l = raw[i];
                if (l.EndsWith("\r", StringComparison.Ordinal)) l = l.Substring(0, l.Length - 1);
                string lead = l.Substring(0, l.Length - l.TrimStart().Length);
                if (lead.IndexOf('\t') >= 0 && l.Trim().Length > 0) throw new YamlException("line " + (i + 1) + ": tab in indentation");
                string t = StripComment(l);
                if (t.Trim().Length == 0) continue;
                if (t == "---" && y.lines.Count == 0) continue;
                if (t == "...") break;
                int ind = t.Length - t.TrimStart(' ').Length;
                y.lines.Add(new Line { No = i + 1, Indent = ind, Text = t.Trim() });
            }
            if (y.lines.Count == 0) return new Dictionary<string, object>();
            object root = y.Block(y.lines[0].Indent);
            if (y.pos != y.lines.Count) throw new YamlException("line " + y.lines[y.pos].No + ": unexpected indentation");
            var m = root as Dictionary<string, object>;
            if (m == null) throw new YamlException("document is not a mapping");
            return m;
        }

        static string StripComment(string l)
        {
            bool sq = false, dq = false;
            for (int i = 0; i < l.Length; i++)
            {
                char c = l[i];
                if (dq) { if (c == '\\') i++; else if (c == '"') dq = false; }
                else if (sq) { if (c == '\'') sq = false; }
                else if (c == '"') dq = true;
                else if (c == '\'') sq = true;
                else if (c == '#' && (i == 0 || l[i - 1] == ' ' || l[i - 1] == '\t')) return l.Substring(0, i).TrimEnd();
            }
            return l.TrimEnd();
        }

        static bool IsSeq(string t) { return t == "-" || t.StartsWith("- ", StringComparison.Ordinal); }

        object Block(int indent)
        {
            if (IsSeq(lines[pos].Text)) return Sequence(indent);
            return Mapping(indent);
        }

        List<object> Sequence(int indent)
        {
            var out_ = new List<object>();
            while (pos < lines.Count)
            {
                var l = lines[pos];
                if (l.Indent < indent) break;
                if (l.Indent > indent) throw new YamlException("line " + l.No + ": unexpected indentation");
                if (!IsSeq(l.Text)) break;
                pos++;
                string item = l.Text.Substring(1).Trim();
                if (item.Length == 0) throw new YamlException("line " + l.No + ": nested collections in sequences are not supported");
                if (KeyColon(item) >= 0 && !item.StartsWith("\"", StringComparison.Ordinal) && !item.StartsWith("'", StringComparison.Ordinal))
                    throw new YamlException("line " + l.No + ": mappings in sequences are not supported");
                out_.Add(ScalarOrFlow(item, l.No));
            }
            return out_;
        }

        Dictionary<string, object> Mapping(int indent)
        {
            var out_ = new Dictionary<string, object>();
            while (pos < lines.Count)
            {
                var l = lines[pos];
                if (l.Indent < indent) break;
                if (l.Indent > indent) throw new YamlException("line " + l.No + ": unexpected indentation");
                if (IsSeq(l.Text)) break;
                int c = KeyColon(l.Text);
                if (c < 0) throw new YamlException("line " + l.No + ": expected \"key: value\"");
                var key = ScalarOrFlow(l.Text.Substring(0, c).Trim(), l.No) as string;
                if (key == null) throw new YamlException("line " + l.No + ": unsupported mapping key");
                string rest = l.Text.Substring(c + 1).Trim();
                pos++;
                if (out_.ContainsKey(key)) throw new YamlException("line " + l.No + ": mapping key " + Json.Quote(key) + " already defined");
                if (rest.Length > 0) { out_[key] = ScalarOrFlow(rest, l.No); continue; }
                if (pos < lines.Count)
                {
                    var n = lines[pos];
                    if (n.Indent > indent || (IsSeq(n.Text) && n.Indent == indent)) { out_[key] = Block(n.Indent); continue; }
                }
                out_[key] = null;
            }
            return out_;
        }

        static int KeyColon(string t)
        {
            int i = 0;
            if (t.StartsWith("\"", StringComparison.Ordinal) || t.StartsWith("'", StringComparison.Ordinal))
            {
                char q = t[0];
                i = 1;
                while (i < t.Length)
                {
                    char c = t[i];
                    if (q == '"' && c == '\\') { i += 2; continue; }
                    if (c == q)
                    {
                        if (q == '\'' && i + 1 < t.Length && t[i + 1] == '\'') { i += 2; continue; }
                        break;
                    }
                    i++;
                }
                if (i >= t.Length) return -1;
                int k = t.IndexOf(':', i);
                return (k >= 0 && (k + 1 == t.Length || t[k + 1] == ' ')) ? k : -1;
            }
            for (i = 0; i < t.Length; i++)
                if (t[i] == ':' && (i + 1 == t.Length || t[i + 1] == ' ')) return i;
            return -1;
        }

        static object ScalarOrFlow(string t, int no)
        {
            if (t.StartsWith("[", StringComparison.Ordinal))
            {
                if (!t.EndsWith("]", StringComparison.Ordinal)) throw new YamlException("line " + no + ": unterminated flow sequence");
                string inner = t.Substring(1, t.Length - 2).Trim();
                var l = new List<object>();
                if (inner.Length == 0) return l;
                if (inner.IndexOfAny(new[] { '[', '{' }) >= 0) throw new YamlException("line " + no + ": nested flow collections are not supported");
                foreach (var part in SplitFlow(inner, no)) l.Add(Scalar(part.Trim(), no));
                return l;
            }
            if (t.StartsWith("{", StringComparison.Ordinal))
            {
                if (t != "{}") throw new YamlException("line " + no + ": flow mappings are not supported");
                return new Dictionary<string, object>();
            }
            return Scalar(t, no);
        }

        static List<string> SplitFlow(string s, int no)
        {
            var out_ = new List<string>();
            var cur = new StringBuilder();
            char q = '\0';
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (q != '\0')
                {
                    cur.Append(c);
                    if (q == '"' && c == '\\' && i + 1 < s.Length) cur.Append(s[++i]);
                    else if (c == q) q = '\0';
                }
                else if (c == '"' || c == '\'') { q = c; cur.Append(c); }
                else if (c == ',') { out_.Add(cur.ToString()); cur.Length = 0; }
                else cur.Append(c);
            }
            if (q != '\0') throw new YamlException("line " + no + ": unterminated quoted scalar");
            out_.Add(cur.ToString());
            return out_;
        }

        static string Scalar(string t, int no)
        {
            if (t.Length == 0) return "";
            char c = t[0];
            if (c == '"')
            {
                if (t.Length < 2 || t[t.Length - 1] != '"') throw new YamlException("line " + no + ": unterminated double-quoted scalar");
                var b = new StringBuilder();
                for (int i = 1; i < t.Length - 1; i++)
                {
                    char x = t[i];
                    if (x == '"') throw new YamlException("line " + no + ": unexpected quote");
                    if (x != '\\') { b.Append(x); continue; }
                    if (++i >= t.Length - 1) throw new YamlException("line " + no + ": malformed escape");
                    char e = t[i];
                    switch (e)
                    {
                        case 'n': b.Append('\n'); break;
                        case 't': b.Append('\t'); break;
                        case 'r': b.Append('\r'); break;
                        case '0': b.Append('\0'); break;
                        case '"': case '\\': case '/': b.Append(e); break;
                        case 'x': case 'u': case 'U':
                            {
                                int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                                if (i + n >= t.Length) throw new YamlException("line " + no + ": malformed escape");
                                int cp;
                                if (!int.TryParse(t.Substring(i + 1, n), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out cp))
                                    throw new YamlException("line " + no + ": malformed escape");
                                b.Append(char.ConvertFromUtf32(cp));
                                i += n;
                                break;
                            }
                        default: throw new YamlException("line " + no + ": unsupported escape");
                    }
                }
                return b.ToString();
            }
            if (c == '\'')
            {
                if (t.Length < 2 || t[t.Length - 1] != '\'') throw new YamlException("line " + no + ": unterminated single-quoted scalar");
                string inner = t.Substring(1, t.Length - 2);
                if (inner.Replace("''", "").IndexOf('\'') >= 0) throw new YamlException("line " + no + ": unexpected quote");
                return inner.Replace("''", "'");
            }
            if ("&*!|>%@`".IndexOf(c) >= 0) throw new YamlException("line " + no + ": unsupported YAML construct");
            if (t == "~" || t == "null" || t == "Null" || t == "NULL") return null;
            return t;
        }
    }
}
