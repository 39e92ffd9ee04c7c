package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The arithmetic of segments and the map-reduce reduction, without a model. */
class DocumentSegmentsTest {

    private static final int BOS = 1;
    private static final int[] INSTRUCTION = {7, 8, 9};

    @Test
    void shouldFitAChunkExactlyUpToTheReserveOfInstructionAndSummary() {
        SegmentPlan plan = new SegmentPlan(OverflowMode.REFINE, 512, 3, 32, 0, 0);
        assertTrue(plan.feasible());
        assertEquals(512 - (1 + 3 + 32) - (3 + 32), plan.derivedSegmentTokens());
        assertTrue(plan.fits(512 - 35, 100, 50, false, false), "477 positions + instruction + summary = 512");
        assertFalse(plan.fits(512 - 34, 100, 50, false, false));
        assertTrue(plan.fits(512 - 32, 100, 50, true, false), "the last chunk holds its instruction already");
        assertFalse(plan.fits(512 - 32, 100, 50, false, false));
        SegmentPlan rolling = new SegmentPlan(OverflowMode.REFINE, 512, 3, 32, 3 + 16, 0);
        assertFalse(rolling.fits(512 - 35, 100, 50, false, true), "a rolling summary the chunk starts needs room too");
        SegmentPlan capped = new SegmentPlan(OverflowMode.REFINE, 512, 3, 32, 0, 120);
        assertTrue(capped.fits(200, 70, 50, false, false));
        assertFalse(capped.fits(200, 71, 50, false, false), "at most 120 document tokens per segment");
        assertEquals(120, capped.room(1));
        assertEquals(512 - 1 - 35, plan.room(1));
    }

    @Test
    void shouldStartEveryContextWithTheChatsOpeningTurn() {
        int[] start = {BOS, 40, 41}; // BOS and a chat's system and user turn headers
        int[] recap = {7, 8, 9};
        int[] instruction = {7, 8, 9, 50, 51}; // the suffix, then the end of the user turn and the assistant header
        DocumentSegments refine = new DocumentSegments(new SegmentPlan(OverflowMode.REFINE, 512, 7, 32, 0, 0),
                SegmentProgress.START);
        refine.read(400);
        refine.close();
        refine.recordSummary(new int[] {20, 21}, 2);
        assertArrayEquals(new int[] {BOS, 40, 41, 7, 8, 9, 20, 21}, refine.nextContext(start, recap, instruction, 0),
                "refine: the user turn goes on with the suffix and the running summary");
        DocumentSegments map = new DocumentSegments(new SegmentPlan(OverflowMode.MAP_REDUCE, 512, 7, 32, 0, 0),
                SegmentProgress.START);
        map.read(400);
        map.close();
        map.recordSummary(new int[] {20, 21}, 2);
        assertArrayEquals(start, map.nextContext(start, recap, instruction, 0), "map: a new conversation");
        map.read(10);
        map.recordSummary(new int[] {30}, 1); // the last segment's summary: the reduction starts
        assertArrayEquals(new int[] {BOS, 40, 41, 20, 21, 30, 7, 8, 9, 50, 51},
                map.nextContext(start, recap, instruction, 0), "reduce: the summaries in a user turn, then the instruction");
    }

    @Test
    void shouldBeInfeasibleWhenSummariesLeaveNoRoomForText() {
        assertFalse(new SegmentPlan(OverflowMode.REFINE, 256, 4, 100, 0, 0).feasible());
        assertTrue(new SegmentPlan(OverflowMode.REFINE, 256, 4, 60, 0, 0).feasible());
        // map-reduce: a reduce step must read at least two summaries
        assertFalse(new SegmentPlan(OverflowMode.MAP_REDUCE, 100, 4, 32, 0, 0).feasible());
        assertTrue(new SegmentPlan(OverflowMode.MAP_REDUCE, 120, 4, 32, 0, 0).feasible());
    }

    @Test
    void shouldCarryBosInstructionAndTheRunningSummaryInRefine() {
        DocumentSegments s = new DocumentSegments(new SegmentPlan(OverflowMode.REFINE, 512, 3, 32, 0, 0),
                SegmentProgress.START);
        assertFalse(s.segmented());
        s.read(400);
        s.close();
        assertTrue(s.segmented() && s.closing());
        s.recordSummary(new int[] {20, 21, 22, 99}, 3);
        s.recordSummary(new int[] {23}, 1);
        assertArrayEquals(new int[] {BOS, 7, 8, 9, 20, 21, 22, 23}, s.nextContext(new int[] {BOS}, INSTRUCTION, INSTRUCTION, 5));
        assertEquals("segment 1 reading", s.describe());
        assertEquals(2, s.contexts());
        assertTrue(s.finalSummary());
        // stored and restored, it goes on the same way
        DocumentSegments restored = new DocumentSegments(new SegmentPlan(OverflowMode.REFINE, 512, 3, 32, 0, 0),
                s.progress());
        assertEquals(s.describe(), restored.describe());
        assertEquals(5, restored.pagesMovedBefore());
    }

    /**
     * Map-reduce over {@code n} random-length summaries: every summary of every level is read
     * exactly once, in order, by a step whose group fits the reduce capacity; the last step reads
     * everything left and is the only final one.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 7, 40, 333})
    void shouldReduceEverySummaryOnceInGroupsThatFit(int n) {
        SegmentPlan plan = new SegmentPlan(OverflowMode.MAP_REDUCE, 256, 3, 24, 0, 0);
        DocumentSegments s = new DocumentSegments(plan, SegmentProgress.START);
        SplittableRandom random = new SplittableRandom(n);
        int nextToken = 100;
        List<int[]> level = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] summary = tokens(nextToken, random.nextInt(25));
            nextToken += summary.length;
            level.add(summary);
            if (i < n - 1) {
                s.read(50);
                s.close();
                s.recordSummary(summary, summary.length);
                assertArrayEquals(new int[] {BOS}, s.nextContext(new int[] {BOS}, INSTRUCTION, INSTRUCTION, 0), "a map segment starts empty");
                assertFalse(s.finalSummary());
            } else {
                s.recordSummary(summary, summary.length); // the last segment's own summary, after its last chunk
                assertFalse(s.finalSummary());
            }
        }
        List<int[]> read = new ArrayList<>(); // the summaries each level reads, in order, flattened
        List<int[]> next = new ArrayList<>();
        int steps = 0;
        while (true) {
            int[] prefix = s.nextContext(new int[] {BOS}, INSTRUCTION, INSTRUCTION, 0);
            assertTrue(s.reducing());
            assertEquals(BOS, prefix[0]);
            assertArrayEquals(INSTRUCTION, Arrays.copyOfRange(prefix, prefix.length - 3, prefix.length));
            int[] group = Arrays.copyOfRange(prefix, 1, prefix.length - 3);
            assertTrue(group.length <= plan.reduceCapacity(), "group of " + group.length);
            read.add(group);
            steps++;
            assertTrue(steps <= 2 * n, "the reduction ends");
            if (s.finalSummary()) {
                break;
            }
            int[] summary = tokens(nextToken, random.nextInt(25));
            nextToken += summary.length;
            next.add(summary);
            s.recordSummary(summary, summary.length);
        }
        // every summary, of the map and of reduce steps but the final one, is read by exactly one step
        List<int[]> all = new ArrayList<>(level);
        all.addAll(next);
        int[] everything = concat(all);
        int[] readTokens = concat(read);
        Arrays.sort(everything);
        Arrays.sort(readTokens);
        assertArrayEquals(everything, readTokens);
        assertEquals(1 + next.size(), steps, "each step but the final one gives one summary");
        assertTrue(steps <= n - 1, steps + " steps for " + n + " summaries: fewer than a binary tree's");
    }

    private static int[] tokens(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    private static int[] concat(List<int[]> parts) {
        return RollingReference.concat(parts.toArray(new int[0][]));
    }
}
