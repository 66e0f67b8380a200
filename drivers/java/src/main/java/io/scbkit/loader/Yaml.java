package io.scbkit.loader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader for the small YAML subset scbkit writes in config/cassandra.yaml: block mappings, block
 * sequences of scalars, plain/single-quoted/double-quoted scalars, comments, and the empty flow
 * collections {@code []} and {@code {}} (plus simple flow sequences of scalars). Anything else
 * (anchors, tags, multi-line scalars, nested flow collections) is rejected rather than guessed.
 * Scalars are returned as strings; callers interpret booleans and numbers.
 */
final class Yaml {
  /** Thrown for input outside the subset or malformed YAML. */
  static final class YamlException extends Exception {
    private static final long serialVersionUID = 1L;

    YamlException(String m) {
      super(m);
    }
  }

  private static final class Line {
    final int no;
    final int indent;
    final String text;

    Line(int no, int indent, String text) {
      this.no = no;
      this.indent = indent;
      this.text = text;
    }
  }

  private final List<Line> lines = new ArrayList<>();
  private int pos;

  private Yaml() {}

  /** Parses a document whose root is a mapping. */
  static Map<String, Object> parseMapping(byte[] data) throws YamlException {
    Yaml y = new Yaml();
    String[] raw = new String(data, StandardCharsets.UTF_8).split("\n", -1);
    for (int i = 0; i < raw.length; i++) {
      String l = raw[i];
      if (l.endsWith("\r")) {
        l = l.substring(0, l.length() - 1);
      }
      if (l.indexOf('\t') >= 0 && l.strip().length() > 0 && l.substring(0, l.length() - l.stripLeading().length()).indexOf('\t') >= 0) {
        throw new YamlException("line " + (i + 1) + ": tab in indentation");
      }
      String t = stripComment(l, i + 1);
      if (t.strip().isEmpty()) {
        continue;
      }
      if (t.equals("---") && y.lines.isEmpty()) {
        continue;
      }
      if (t.equals("...")) {
        break;
      }
      int ind = t.length() - t.stripLeading().length();
      y.lines.add(new Line(i + 1, ind, t.strip()));
    }
    if (y.lines.isEmpty()) {
      return new LinkedHashMap<>();
    }
    Object root = y.block(y.lines.get(0).indent);
    if (y.pos != y.lines.size()) {
      throw new YamlException("line " + y.lines.get(y.pos).no + ": unexpected indentation");
    }
    if (!(root instanceof Map)) {
      throw new YamlException("document is not a mapping");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) root;
    return m;
  }

  private static String stripComment(String l, int no) throws YamlException {
    boolean sq = false;
    boolean dq = false;
    for (int i = 0; i < l.length(); i++) {
      char c = l.charAt(i);
      if (dq) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          dq = false;
        }
      } else if (sq) {
        if (c == '\'') {
          sq = false;
        }
      } else if (c == '"') {
        dq = true;
      } else if (c == '\'') {
        sq = true;
      } else if (c == '#' && (i == 0 || l.charAt(i - 1) == ' ' || l.charAt(i - 1) == '\t')) {
        return l.substring(0, i).stripTrailing();
      }
    }
    return l.stripTrailing();
  }

  private Object block(int indent) throws YamlException {
    Line first = lines.get(pos);
    if (first.text.equals("-") || first.text.startsWith("- ")) {
      return sequence(indent);
    }
    return mapping(indent);
  }

  private List<Object> sequence(int indent) throws YamlException {
    List<Object> out = new ArrayList<>();
    while (pos < lines.size()) {
      Line l = lines.get(pos);
      if (l.indent < indent) {
        break;
      }
      if (l.indent > indent) {
        throw new YamlException("line " + l.no + ": unexpected indentation");
      }
      if (!(l.text.equals("-") || l.text.startsWith("- "))) {
        break;
      }
      pos++;
      String item = l.text.substring(1).strip();
      if (item.isEmpty()) {
        throw new YamlException("line " + l.no + ": nested collections in sequences are not supported");
      }
      if (keyColon(item) >= 0 && !item.startsWith("\"") && !item.startsWith("'")) {
        throw new YamlException("line " + l.no + ": mappings in sequences are not supported");
      }
      out.add(scalarOrFlow(item, l.no));
    }
    return out;
  }

  private Map<String, Object> mapping(int indent) throws YamlException {
    Map<String, Object> out = new LinkedHashMap<>();
    while (pos < lines.size()) {
      Line l = lines.get(pos);
      if (l.indent < indent) {
        break;
      }
      if (l.indent > indent) {
        throw new YamlException("line " + l.no + ": unexpected indentation");
      }
      if (l.text.startsWith("- ") || l.text.equals("-")) {
        break;
      }
      int c = keyColon(l.text);
      if (c < 0) {
        throw new YamlException("line " + l.no + ": expected \"key: value\"");
      }
      String key = unquoteKey(l.text.substring(0, c).strip(), l.no);
      String rest = l.text.substring(c + 1).strip();
      pos++;
      if (out.containsKey(key)) {
        throw new YamlException("line " + l.no + ": mapping key " + Json.quote(key) + " already defined");
      }
      if (!rest.isEmpty()) {
        out.put(key, scalarOrFlow(rest, l.no));
        continue;
      }
      if (pos < lines.size()) {
        Line n = lines.get(pos);
        boolean seq = n.text.equals("-") || n.text.startsWith("- ");
        if (n.indent > indent || (seq && n.indent == indent)) {
          out.put(key, block(n.indent));
          continue;
        }
      }
      out.put(key, null);
    }
    return out;
  }

  /** The index of the ':' that ends a mapping key, or -1. */
  private static int keyColon(String t) {
    if (t.startsWith("\"") || t.startsWith("'")) {
      char q = t.charAt(0);
      int i = 1;
      while (i < t.length()) {
        char c = t.charAt(i);
        if (q == '"' && c == '\\') {
          i += 2;
          continue;
        }
        if (c == q) {
          if (q == '\'' && i + 1 < t.length() && t.charAt(i + 1) == '\'') {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      int c = t.indexOf(':', i);
      return (c >= 0 && (c + 1 == t.length() || t.charAt(c + 1) == ' ')) ? c : -1;
    }
    for (int i = 0; i < t.length(); i++) {
      if (t.charAt(i) == ':' && (i + 1 == t.length() || t.charAt(i + 1) == ' ')) {
        return i;
      }
    }
    return -1;
  }

  private static String unquoteKey(String k, int no) throws YamlException {
    Object v = scalarOrFlow(k, no);
    if (!(v instanceof String)) {
      throw new YamlException("line " + no + ": unsupported mapping key");
    }
    return (String) v;
  }

  private static Object scalarOrFlow(String t, int no) throws YamlException {
    if (t.startsWith("[")) {
      if (!t.endsWith("]")) {
        throw new YamlException("line " + no + ": unterminated flow sequence");
      }
      String inner = t.substring(1, t.length() - 1).strip();
      List<Object> l = new ArrayList<>();
      if (inner.isEmpty()) {
        return l;
      }
      if (inner.contains("[") || inner.contains("{")) {
        throw new YamlException("line " + no + ": nested flow collections are not supported");
      }
      for (String part : splitFlow(inner, no)) {
        l.add(scalar(part.strip(), no));
      }
      return l;
    }
    if (t.startsWith("{")) {
      if (!t.equals("{}")) {
        throw new YamlException("line " + no + ": flow mappings are not supported");
      }
      return new LinkedHashMap<String, Object>();
    }
    return scalar(t, no);
  }

  private static List<String> splitFlow(String s, int no) throws YamlException {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char q = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (q != 0) {
        cur.append(c);
        if (q == '"' && c == '\\' && i + 1 < s.length()) {
          cur.append(s.charAt(++i));
        } else if (c == q) {
          q = 0;
        }
      } else if (c == '"' || c == '\'') {
        q = c;
        cur.append(c);
      } else if (c == ',') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (q != 0) {
      throw new YamlException("line " + no + ": unterminated quoted scalar");
    }
    out.add(cur.toString());
    return out;
  }

  private static String scalar(String t, int no) throws YamlException {
    if (t.isEmpty()) {
      return "";
    }
    char c = t.charAt(0);
    if (c == '"') {
      if (t.length() < 2 || !t.endsWith("\"") || t.endsWith("\\\"") && !t.endsWith("\\\\\"")) {
        throw new YamlException("line " + no + ": unterminated double-quoted scalar");
      }
      StringBuilder b = new StringBuilder();
      for (int i = 1; i < t.length() - 1; i++) {
        char x = t.charAt(i);
        if (x == '"') {
          throw new YamlException("line " + no + ": unexpected quote");
        }
        if (x != '\\') {
          b.append(x);
          continue;
        }
        if (++i >= t.length() - 1) {
          throw new YamlException("line " + no + ": malformed escape");
        }
        char e = t.charAt(i);
        switch (e) {
          case 'n':
            b.append('\n');
            break;
          case 't':
            b.append('\t');
            break;
          case 'r':
            b.append('\r');
            break;
          case '0':
            b.append('\0');
            break;
          case '"':
          case '\\':
          case '/':
            b.append(e);
            break;
          case 'x':
          case 'u':
          case 'U': {
            int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (i + n >= t.length()) {
              throw new YamlException("line " + no + ": malformed escape");
            }
            try {
              b.appendCodePoint(Integer.parseInt(t.substring(i + 1, i + 1 + n), 16));
            } catch (IllegalArgumentException ex) {
              throw new YamlException("line " + no + ": malformed escape");
            }
            i += n;
            break;
          }
          default:
            throw new YamlException("line " + no + ": unsupported escape");
        }
      }
      return b.toString();
    }
    if (c == '\'') {
      if (t.length() < 2 || !t.endsWith("'")) {
        throw new YamlException("line " + no + ": unterminated single-quoted scalar");
      }
      String inner = t.substring(1, t.length() - 1);
      if (inner.replace("''", "").indexOf('\'') >= 0) {
        throw new YamlException("line " + no + ": unexpected quote");
      }
      return inner.replace("''", "'");
    }
    if ("&*!|>%@`".indexOf(c) >= 0) {
      throw new YamlException("line " + no + ": unsupported YAML construct");
    }
    if (t.equals("~") || t.equals("null") || t.equals("Null") || t.equals("NULL")) {
      return null;
    }
    return t;
  }
}
