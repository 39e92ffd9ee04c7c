package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LongIntMapTest {

    @Test
    void shouldAgreeWithHashMapUnderRandomPutsAndRemoves() {
        for (long seed = 1; seed <= 20; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            LongIntMap map = new LongIntMap(4);
            Map<Long, Integer> ref = new HashMap<>();
            int keyRange = 1 + rnd.nextInt(300);
            for (int op = 0; op < 5000; op++) {
                long key = rnd.nextInt(keyRange) * 0x1_0000_0001L; // collide in the low bits on purpose
                if (rnd.nextInt(3) == 0) {
                    Integer old = ref.remove(key);
                    assertEquals(old == null ? LongIntMap.MISSING : old, map.remove(key), "seed=" + seed);
                } else {
                    int v = rnd.nextInt(1_000_000);
                    Integer old = ref.put(key, v);
                    assertEquals(old == null ? LongIntMap.MISSING : old, map.put(key, v), "seed=" + seed);
                }
                assertEquals(ref.size(), map.size(), "seed=" + seed);
            }
            for (int k = 0; k < keyRange; k++) {
                long key = k * 0x1_0000_0001L;
                Integer v = ref.get(key);
                assertEquals(v == null ? LongIntMap.MISSING : v, map.get(key), "seed=" + seed + " key=" + key);
            }
        }
    }
}
