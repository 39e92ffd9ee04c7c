package dev.icecache.bench.fidelity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 3, "on real keys": with fieldOfView = n and a full scan, a DCI tree over the post-RoPE
 * keys of a stories260K sparse layer returns exactly the brute-force best pages (page score of the
 * defaults: the page's attention mass; ties to the lower page id) for the model's own queries.
 */
class RealKeyExhaustiveSearchTest {

    private static final int POSITIONS = 480;
    private static CacheShape shape;
    private static KeyRecordingCache recorder;
    private static float[][] queries; // [layer][position * qDim]

    @BeforeAll
    static void runTheStory() throws IOException {
        LlamaModel model = LlamaModel.load(SharedModels.require(SharedModels.STORIES_260K), new LoadOptions(null, 512));
        shape = model.cacheShape();
        recorder = new KeyRecordingCache(new FullCache(shape));
        queries = new float[shape.nLayers()][POSITIONS * shape.qDim()];
        Session session = model.newSession(new QueryCopy(recorder));
        int[] text = model.tokenizer().encode(Files.readString(SharedModels.STORY));
        session.step(model.tokenizer().bos());
        for (int p = 1; p < POSITIONS; p++) {
            session.step(text[p - 1]);
        }
        assertEquals(POSITIONS, recorder.appended(shape.nLayers() - 1));
    }

    @ParameterizedTest(name = "layer={0} kvHead={1} batch={2}")
    @CsvSource({"2, 0, 0", "2, 3, 16", "3, 1, 0", "3, 2, 16", "4, 0, 16", "4, 3, 0", "4, 1, 1"})
    void shouldEqualBruteForceBestPagesForTheModelsOwnQueries(int layer, int kvHead, int batch) {
        int hd = shape.headDim();
        float[] keys = recorder.keys(layer, kvHead);
        int[] tokens = new int[POSITIONS];
        Arrays.setAll(tokens, i -> i);
        DciTree tree = new DciTree(hd, DciParams.defaults().withExhaustiveSearch(),
                new Projection(hd, new SplittableRandom(31L * layer + kvHead)));
        int step = batch == 0 ? POSITIONS : batch;
        for (int i = 0; i < POSITIONS; i += step) {
            tree.add(keys, i * hd, tokens, i, Math.min(step, POSITIONS - i));
        }
        assertEquals(POSITIONS, tree.size());
        int group = shape.groupSize();
        int checked = 0;
        for (int p = 7; p < POSITIONS; p += 13) {
            for (int g = 0; g < group; g++) {
                int qOff = p * shape.qDim() + (kvHead * group + g) * hd;
                for (int maxPages : new int[] {1, 2, 12, 1000}) {
                    String what = "layer=" + layer + " kvHead=" + kvHead + " batch=" + batch + " position=" + p
                            + " head=" + (kvHead * group + g) + " maxPages=" + maxPages;
                    int[] pages = new int[maxPages];
                    float[] scores = new float[maxPages];
                    int got = tree.search(queries[layer], qOff, maxPages, pages, scores, null);
                    int[] expPages = new int[maxPages];
                    float[] expScores = new float[maxPages];
                    int exp = bestPages(tree, keys, queries[layer], qOff, maxPages, expPages, expScores);
                    assertEquals(exp, got, what);
                    assertArrayEquals(Arrays.copyOf(expPages, exp), Arrays.copyOf(pages, got), what);
                    assertArrayEquals(Arrays.copyOf(expScores, exp), Arrays.copyOf(scores, got), what);
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "queries checked: " + checked);
    }

    /**
     * Every live page scored by the tree's page score over its rows (best token, or [issue 18] the
     * page's attention mass, {@code PageScore.of}), best first, ties to the lower page id.
     */
    private static int bestPages(DciTree tree, float[] keys, float[] q, int qOff, int maxPages, int[] pages,
                                 float[] scores) {
        int hd = shape.headDim();
        int limit = tree.pageIdLimit();
        Integer[] live = new Integer[limit];
        float[] best = new float[limit];
        int nLive = 0;
        int[] rows = new int[tree.pageCapacity()];
        float[] rowScores = new float[tree.pageCapacity()];
        for (int page = 0; page < limit; page++) {
            int size = tree.pageTokens(page, rows);
            if (size == 0) {
                continue;
            }
            float b = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < size; s++) {
                rowScores[s] = rankingDot(q, qOff, keys, rows[s] * hd, hd);
                b = Math.max(b, rowScores[s]);
            }
            best[page] = tree.params().pageScore().of(rowScores, size, b, hd);
            live[nLive++] = page;
        }
        Arrays.sort(live, 0, nLive, (a, b) -> {
            int c = Float.compare(best[b], best[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int n = Math.min(maxPages, nLive);
        for (int i = 0; i < n; i++) {
            pages[i] = live[i];
            scores[i] = best[pages[i]];
        }
        return n;
    }

    /**
     * q.k of the key as the tree keeps it (int8 codes and a scale, {@code CompactKeys}) in the order
     * the tree search ranks with ({@code RankingDot}'s documented order: term i to lane i mod 8,
     * lanes added pairwise), written out here rather than calling the kernel.
     */
    private static float rankingDot(float[] a, int aOff, float[] b, int bOff, int n) {
        byte[] codes = new byte[n];
        float scale = dev.icecache.kvcache.tree.CompactKeys.quantize(b, bOff, n, codes, 0);
        float[] lane = new float[8];
        for (int i = 0; i < n; i++) {
            lane[i % 8] += a[aOff + i] * codes[i];
        }
        return (((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]))) * scale;
    }

    /** Copies every query into {@link #queries} on its way to the recorder. */
    private record QueryCopy(KvCache delegate) implements KvCache {
        @Override
        public CacheShape shape() {
            return delegate.shape();
        }

        @Override
        public int length() {
            return delegate.length();
        }

        @Override
        public void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
            delegate.append(layer, position, k, kOff, v, vOff);
        }

        @Override
        public void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff) {
            System.arraycopy(q, qOff, queries[layer], position * shape.qDim(), shape.qDim());
            delegate.attend(layer, position, q, qOff, out, outOff);
        }
    }
}
