package dev.icecache.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test oracle: both BPE variants written the slow, obvious way (rescan every pair after each
 * merge, strings everywhere), straight from their definitions.
 */
final class NaiveBpe {

    private NaiveBpe() {
    }

    /** SentencePiece: highest score first, ties leftmost; unknown characters as byte tokens. */
    static List<Integer> sentencePiece(Vocabulary v, String text) {
        if (text.isEmpty()) {
            return List.of();
        }
        Map<String, Integer> ids = textPieces(v);
        String escaped = ("\u2581" + text.replace(' ', '\u2581'));
        List<String> symbols = new ArrayList<>();
        escaped.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(
                Character.isSurrogate((char) cp) && cp < 0x10000 ? 0xFFFD : cp))));
        while (true) {
            int best = -1;
            float bestScore = 0;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer id = ids.get(symbols.get(i) + symbols.get(i + 1));
                if (id != null && (best < 0 || v.scores()[id] > bestScore)) {
                    best = i;
                    bestScore = v.scores()[id];
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        for (String symbol : symbols) {
            Integer id = ids.get(symbol);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                Integer byteId = ids.get(String.format("<0x%02X>", b & 0xFF));
                out.add(byteId != null ? byteId : v.unk());
            }
        }
        return out;
    }

    /** Byte-level BPE of one pre-tokenized word: lowest merge rank first, ties leftmost. */
    static List<Integer> byteLevelWord(Vocabulary v, String word) {
        Map<String, Integer> ids = textPieces(v);
        Map<String, Integer> ranks = new HashMap<>();
        for (int r = 0; r < v.merges().size(); r++) {
            ranks.putIfAbsent(v.merges().get(r), r);
        }
        List<String> symbols = new ArrayList<>();
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            symbols.add(String.valueOf(ByteLevelAlphabet.charOf(b & 0xFF)));
        }
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    best = i;
                    bestRank = rank;
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        for (String symbol : symbols) {
            out.add(ids.get(symbol));
        }
        return out;
    }

    /** Piece to id for tokens plain text may produce (later ids win, as in llama.cpp). */
    static Map<String, Integer> textPieces(Vocabulary v) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < v.size(); i++) {
            int type = v.tokenTypes() == null ? TokenType.NORMAL : v.tokenTypes()[i];
            if (type != TokenType.CONTROL && type != TokenType.UNKNOWN) {
                ids.put(v.tokens()[i], i);
            }
        }
        return ids;
    }
}
