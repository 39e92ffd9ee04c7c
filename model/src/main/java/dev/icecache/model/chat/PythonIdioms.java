package dev.icecache.model.chat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the few Python idioms that Hugging Face chat templates use and Jinjava does not
 * parse into their Jinjava equivalents, before rendering: {@code seq[::-1]} becomes
 * {@code (seq|reverse)}, {@code s.startswith(x)} / {@code s.endswith(x)} the Java
 * {@code startsWith} / {@code endsWith}, and each keyword argument of {@code namespace(...)} is
 * parenthesized (Jinjava binds {@code a=b|length - 1} as {@code (a=b|length) - 1}). Everything
 * else is left to Jinjava; a template it still cannot render gets one clear line
 * ({@link ChatTemplateException}).
 */
final class PythonIdioms {

    private static final Pattern REVERSED = Pattern.compile("([A-Za-z_][A-Za-z_0-9.]*)\\[::-1\\]");
    private static final Pattern NAMESPACE = Pattern.compile("namespace\\(");
    private static final Pattern KEYWORD = Pattern.compile("^\\s*([A-Za-z_][A-Za-z_0-9]*)\\s*=(?!=)(.*)$", Pattern.DOTALL);

    private PythonIdioms() {
    }

    static String rewrite(String template) {
        String s = REVERSED.matcher(template).replaceAll("($1|reverse)");
        s = s.replace(".startswith(", ".startsWith(").replace(".endswith(", ".endsWith(");
        return parenthesizeNamespaceArguments(s);
    }

    private static String parenthesizeNamespaceArguments(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = NAMESPACE.matcher(s);
        int from = 0;
        while (m.find(from)) {
            int open = m.end();
            int close = matchingParen(s, open);
            if (close < 0) {
                break;
            }
            out.append(s, from, open);
            StringBuilder args = new StringBuilder();
            for (String arg : splitTopLevel(s.substring(open, close))) {
                Matcher kw = KEYWORD.matcher(arg);
                args.append(args.length() == 0 ? "" : ", ")
                        .append(kw.matches() ? kw.group(1) + "=(" + kw.group(2).trim() + ")" : arg.trim());
            }
            out.append(args).append(')');
            from = close + 1;
        }
        return out.append(s.substring(from)).toString();
    }

    /** Index of the ')' closing the parenthesis opened just before {@code from}, or -1. */
    private static int matchingParen(String s, int from) {
        int depth = 1;
        char quote = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    private static java.util.List<String> splitTopLevel(String args) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = 0;
        for (int i = 0; i < args.length(); i++) {
            char c = args.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(args.substring(start, i));
                start = i + 1;
            }
        }
        if (start < args.length()) {
            parts.add(args.substring(start));
        }
        return parts;
    }
}
