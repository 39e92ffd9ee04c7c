package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/**
 * Seeded properties over random insert sequences (sizes up to a few thousand, batches of 1..64):
 * membership, maps, move log, changed pages and snapshots agree with the tree after every add.
 * Each failure message carries the seed; rerun it with {@code -Djqwik.seeds.whenfixed} or by
 * calling {@link #run} with that seed.
 */
class TreeGrowthProperties {

    @Property(tries = 40)
    void shouldKeepMembershipMapsAndLogsConsistent(@ForAll @LongRange(min = 1, max = 1_000_000_000L) long seed) {
        new Run(seed).run();
    }

    /** One random sequence of adds with every check after each. */
    static final class Run {
        final long seed;
        final SplittableRandom rnd;
        final int d;
        final int n;
        final DciParams params;
        final float[] keys;
        final int[] tokens;
        final Map<Integer, int[]> replay = new HashMap<>();   // page -> slot -> token, from the move log
        final Map<Integer, byte[]> cells = new HashMap<>();   // snapshot cells, latest bytes
        final DciTree tree;

        Run(long seed) {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            this.d = new int[] {2, 4, 8, 16}[rnd.nextInt(4)];
            this.n = 1 + rnd.nextInt(rnd.nextBoolean() ? 300 : 3000);
            // small thresholds and a high p0 exercise the anchor shortcut and deep trees at small n
            this.params = rnd.nextBoolean() ? DciParams.defaults()
                    : new DciParams(0.05, 0.3, 16, 3, 4, 0.8, 5, 0.0015, 0);
            this.keys = rnd.nextBoolean() ? TreeKeys.clustered(n, d, rnd) : TreeKeys.gaussian(n, d, rnd);
            this.tokens = new int[n];
            int t = rnd.nextInt(100);
            for (int i = 0; i < n; i++) {
                t += 1 + (rnd.nextInt(5) == 0 ? rnd.nextInt(10) : 0);
                tokens[i] = t;
            }
            this.tree = new DciTree(d, params, new Projection(d, rnd.split()));
        }

        String what() {
            return "seed=" + seed + " d=" + d + " n=" + n + " params=" + params;
        }

        void run() {
            int done = 0;
            boolean first = true;
            while (done < n) {
                int batch = Math.min(n - done, first && rnd.nextBoolean() ? 1 + rnd.nextInt(n) : 1 + rnd.nextInt(64));
                int[] sizesBefore = pageSizes();
                tree.add(keys, done * d, tokens, done, batch);
                done += batch;
                tree.checkInvariants();
                checkMembership(done);
                if (first) {
                    checkBulkFill();
                    first = false;
                }
                checkLogs(sizesBefore);
                drainCells();
                if (rnd.nextInt(8) == 0 || done == n) {
                    checkRestore(done);
                }
            }
        }

        int[] pageSizes() {
            int[] s = new int[tree.pageIdLimit()];
            for (int p = 0; p < s.length; p++) {
                s[p] = tree.pageSize(p);
            }
            return s;
        }

        void checkMembership(int done) {
            int[] seen = new int[done];
            int[] rows = new int[tree.pageCapacity()];
            for (int p = 0; p < tree.pageIdLimit(); p++) {
                int size = tree.pageTokens(p, rows);
                assertTrue(size <= 16, what() + " page=" + p + " size=" + size);
                for (int s = 0; s < size; s++) {
                    int i = java.util.Arrays.binarySearch(tokens, 0, done, rows[s]);
                    assertTrue(i >= 0, what() + " page=" + p + " holds unknown token=" + rows[s]);
                    seen[i]++;
                    assertEquals(p, tree.pageOf(rows[s]), what() + " pageOf token=" + rows[s]);
                    assertEquals(s, tree.slotOf(rows[s]), what() + " slotOf token=" + rows[s]);
                }
            }
            for (int i = 0; i < done; i++) {
                assertEquals(1, seen[i], what() + " token=" + tokens[i] + " is in " + seen[i] + " pages");
            }
            assertEquals(done, tree.size(), what());
        }

        void checkBulkFill() {
            // right after the bulk build every leaf of a cell with >= 8 children holds 8..16 rows
            for (int owner = Nodes.ROOT; owner < tree.size(); owner++) {
                ChildIndex cell = owner == Nodes.ROOT ? tree.root : tree.cellOf(owner);
                if (cell == null || cell.childCount() < 8) {
                    continue;
                }
                for (int j = 0; j < cell.leafCount(); j++) {
                    int size = tree.pageSize(cell.leaf(j));
                    assertTrue(size >= 8 && size <= 16, what() + " bulk leaf page=" + cell.leaf(j) + " size=" + size);
                }
            }
        }

        void checkLogs(int[] sizesBefore) {
            int m = tree.pendingMoves();
            int[] tok = new int[m];
            int[] fromPage = new int[m];
            int[] fromSlot = new int[m];
            int[] toPage = new int[m];
            int[] toSlot = new int[m];
            tree.drainMoves(tok, fromPage, fromSlot, toPage, toSlot);
            int[] changed = new int[tree.changedPageCount()];
            int c = tree.drainChangedPages(changed);
            Set<Integer> changedSet = new HashSet<>();
            for (int i = 0; i < c; i++) {
                changedSet.add(changed[i]);
            }
            for (int i = 0; i < m; i++) {
                if (fromPage[i] != DciTree.NO_PAGE) {
                    assertEquals(tok[i], replay.get(fromPage[i])[fromSlot[i]], what() + " move source does not hold the token");
                    assertTrue(changedSet.contains(fromPage[i]), what() + " source page=" + fromPage[i] + " not changed");
                }
                assertTrue(changedSet.contains(toPage[i]), what() + " target page=" + toPage[i] + " not changed");
            }
            // writes after all reads: moves inside a batch must not clobber each other
            for (int i = 0; i < m; i++) {
                replay.computeIfAbsent(toPage[i], k -> new int[16])[toSlot[i]] = tok[i];
            }
            int[] rows = new int[16];
            for (int p = 0; p < tree.pageIdLimit(); p++) {
                int size = tree.pageTokens(p, rows);
                int before = p < sizesBefore.length ? sizesBefore[p] : 0;
                if (before != size) {
                    assertTrue(changedSet.contains(p), what() + " page=" + p + " resized " + before + "->" + size + " unmarked");
                }
                for (int s = 0; s < size; s++) {
                    assertEquals(rows[s], replay.get(p)[s], what() + " replayed move log differs at page=" + p + " slot=" + s);
                }
            }
        }

        void drainCells() {
            int[] ids = new int[tree.dirtyCellCount()];
            int k = tree.drainDirtyCells(ids);
            for (int i = 0; i < k; i++) {
                cells.put(ids[i], tree.cellBytes(ids[i]));
            }
        }

        void checkRestore(int done) {
            DciTree back = DciTree.restore(d, params, projectionOf(tree), cells::get);
            back.checkInvariants();
            assertEquals(tree.size(), back.size(), what());
            assertEquals(tree.pageIdLimit(), back.pageIdLimit(), what());
            for (int i = 0; i < done; i++) {
                assertEquals(tree.pageOf(tokens[i]), back.pageOf(tokens[i]), what() + " restored pageOf");
                assertEquals(tree.slotOf(tokens[i]), back.slotOf(tokens[i]), what() + " restored slotOf");
            }
            for (int t = 0; t < 5; t++) {
                float[] q = TreeKeys.queryNear(keys, done, d, rnd);
                int[] a = new int[12];
                int[] b = new int[12];
                float[] sa = new float[12];
                float[] sb = new float[12];
                int na = tree.search(q, 0, 12, a, sa, null);
                int nb = back.search(q, 0, 12, b, sb, null);
                assertEquals(na, nb, what());
                assertArrayEquals(a, b, what() + " restored search pages");
                assertArrayEquals(sa, sb, what() + " restored search scores");
            }
        }

        static Projection projectionOf(DciTree tree) {
            return tree.core.mips.projection();
        }
    }
}
