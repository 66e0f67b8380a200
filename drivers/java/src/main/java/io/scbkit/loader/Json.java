package io.scbkit.loader;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON reader (RFC 8259) for bundle files, envelopes and key sets. Objects become
 * {@link LinkedHashMap}s, arrays {@link List}s, strings {@link String}s, numbers {@link Num} (the
 * literal text, so that integer rules can be applied exactly), {@code true}/{@code false}
 * {@link Boolean}s and {@code null} {@link #NULL}. Error messages never quote input beyond a byte
 * offset or a short member name.
 */
final class Json {
  /** JSON null. */
  static final Object NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  /** A JSON number, kept as its literal text. */
  static final class Num {
    final String text;

    Num(String text) {
      this.text = text;
    }

    /** The value if the literal is an integer without fraction or exponent, else null. */
    BigInteger integer() {
      if (text.indexOf('.') >= 0 || text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
        return null;
      }
      return new BigInteger(text);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Thrown for input that is not JSON or breaks a strictness rule. */
  static final class JsonException extends Exception {
    private static final long serialVersionUID = 1L;

    JsonException(String message) {
      super(message);
    }
  }

  private static final int MAX_DEPTH = 256;

  private final String s;
  private final boolean rejectDuplicates;
  private int pos;
  private int depth;

  private Json(String s, boolean rejectDuplicates) {
    this.s = s;
    this.rejectDuplicates = rejectDuplicates;
  }

  /**
   * Parses exactly one JSON value with nothing but white space after it. Duplicate object member
   * names are an error at any depth when {@code rejectDuplicates}; otherwise the last one wins.
   */
  static Object parse(byte[] data, boolean rejectDuplicates) throws JsonException {
    Json p = new Json(new String(data, StandardCharsets.UTF_8), rejectDuplicates);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.pos != p.s.length()) {
      throw new JsonException("data after the JSON value at offset " + p.pos);
    }
    return v;
  }

  /** Parses the first JSON value and ignores whatever follows it (as a streaming decoder does). */
  static Object parseFirst(byte[] data) throws JsonException {
    Json p = new Json(new String(data, StandardCharsets.UTF_8), false);
    p.ws();
    return p.value();
  }

  /** Parses one JSON object (see {@link #parse}). */
  @SuppressWarnings("unchecked")
  static Map<String, Object> parseObject(byte[] data, boolean rejectDuplicates) throws JsonException {
    Object v = parse(data, rejectDuplicates);
    if (!(v instanceof Map)) {
      throw new JsonException("not a JSON object");
    }
    return (Map<String, Object>) v;
  }

  private void ws() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pos++;
      } else {
        break;
      }
    }
  }

  private JsonException err(String what) {
    return new JsonException(what + " at offset " + pos);
  }

  private Object value() throws JsonException {
    if (pos >= s.length()) {
      throw err("truncated JSON");
    }
    char c = s.charAt(pos);
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return literal("true", Boolean.TRUE);
      case 'f':
        return literal("false", Boolean.FALSE);
      case 'n':
        return literal("null", NULL);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw err("invalid JSON");
    }
  }

  private Object literal(String word, Object v) throws JsonException {
    if (!s.startsWith(word, pos)) {
      throw err("invalid JSON");
    }
    pos += word.length();
    return v;
  }

  private Map<String, Object> object() throws JsonException {
    if (++depth > MAX_DEPTH) {
      throw err("JSON nested too deeply");
    }
    pos++; // {
    Map<String, Object> m = new LinkedHashMap<>();
    ws();
    if (pos < s.length() && s.charAt(pos) == '}') {
      pos++;
      depth--;
      return m;
    }
    while (true) {
      ws();
      if (pos >= s.length() || s.charAt(pos) != '"') {
        throw err("expected a member name");
      }
      String name = string();
      ws();
      if (pos >= s.length() || s.charAt(pos) != ':') {
        throw err("expected ':'");
      }
      pos++;
      ws();
      Object v = value();
      if (m.containsKey(name) && rejectDuplicates) {
        throw new JsonException("duplicate member " + quote(name));
      }
      m.put(name, v);
      ws();
      if (pos >= s.length()) {
        throw err("truncated JSON");
      }
      char c = s.charAt(pos++);
      if (c == '}') {
        depth--;
        return m;
      }
      if (c != ',') {
        throw err("expected ',' or '}'");
      }
    }
  }

  private List<Object> array() throws JsonException {
    if (++depth > MAX_DEPTH) {
      throw err("JSON nested too deeply");
    }
    pos++; // [
    List<Object> l = new ArrayList<>();
    ws();
    if (pos < s.length() && s.charAt(pos) == ']') {
      pos++;
      depth--;
      return l;
    }
    while (true) {
      ws();
      l.add(value());
      ws();
      if (pos >= s.length()) {
        throw err("truncated JSON");
      }
      char c = s.charAt(pos++);
      if (c == ']') {
        depth--;
        return l;
      }
      if (c != ',') {
        throw err("expected ',' or ']'");
      }
    }
  }

  private String string() throws JsonException {
    pos++; // "
    StringBuilder b = new StringBuilder();
    while (true) {
      if (pos >= s.length()) {
        throw err("truncated JSON string");
      }
      char c = s.charAt(pos++);
      if (c == '"') {
        return b.toString();
      }
      if (c < 0x20) {
        throw err("control character in JSON string");
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (pos >= s.length()) {
        throw err("truncated JSON string");
      }
      char e = s.charAt(pos++);
      switch (e) {
        case '"':
        case '\\':
        case '/':
          b.append(e);
          break;
        case 'b':
          b.append('\b');
          break;
        case 'f':
          b.append('\f');
          break;
        case 'n':
          b.append('\n');
          break;
        case 'r':
          b.append('\r');
          break;
        case 't':
          b.append('\t');
          break;
        case 'u':
          if (pos + 4 > s.length()) {
            throw err("truncated \\u escape");
          }
          int v = 0;
          for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos + i), 16);
            if (d < 0) {
              throw err("malformed \\u escape");
            }
            v = v * 16 + d;
          }
          pos += 4;
          b.append((char) v);
          break;
        default:
          throw err("malformed escape in JSON string");
      }
    }
  }

  private Num number() throws JsonException {
    int start = pos;
    if (s.charAt(pos) == '-') {
      pos++;
    }
    if (pos >= s.length()) {
      throw err("malformed number");
    }
    if (s.charAt(pos) == '0') {
      pos++;
    } else if (s.charAt(pos) >= '1' && s.charAt(pos) <= '9') {
      while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
        pos++;
      }
    } else {
      throw err("malformed number");
    }
    if (pos < s.length() && s.charAt(pos) == '.') {
      pos++;
      digits();
    }
    if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
      pos++;
      if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
        pos++;
      }
      digits();
    }
    return new Num(s.substring(start, pos));
  }

  private void digits() throws JsonException {
    int start = pos;
    while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
      pos++;
    }
    if (pos == start) {
      throw err("malformed number");
    }
  }

  /** Quotes a member name for an error message, cut to 64 characters. */
  static String quote(String name) {
    String n = name.length() > 64 ? name.substring(0, 64) + "..." : name;
    StringBuilder b = new StringBuilder("\"");
    for (char c : n.toCharArray()) {
      if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  // ---- typed access helpers -------------------------------------------------------------

  /** The string member, or null when absent; an exception when present with another type. */
  static String optString(Map<String, Object> m, String name) throws JsonException {
    Object v = m.get(name);
    if (v == null || v == NULL) {
      return null;
    }
    if (!(v instanceof String)) {
      throw new JsonException("member " + quote(name) + " is not a string");
    }
    return (String) v;
  }

  /** Encodes a string the way Go's encoding/json does with HTML escaping turned off. */
  static void encodeString(StringBuilder b, String v) {
    b.append('"');
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        case '\b':
          b.append("\\b");
          break;
        case '\f':
          b.append("\\f");
          break;
        case '\u2028':
          b.append("\\u2028");
          break;
        case '\u2029':
          b.append("\\u2029");
          break;
        default:
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }
}
