package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.select.FullSelector;
import dev.icecache.kvcache.select.IceCacheSelector;
import dev.icecache.kvcache.select.OracleSelector;
import dev.icecache.kvcache.select.PageSelector;
import dev.icecache.kvcache.select.QuestSelector;
import dev.icecache.kvcache.select.SelectorSpec;
import dev.icecache.kvcache.select.StreamingSelector;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The page-selection policies, each built by one factory entry (style.md rule 3: chosen by an
 * enum through one map, no if-chains). All of them get the same budget composition
 * ({@link CacheConfig}), so comparisons are fair.
 */
public enum Policy {
    /** Every position: the fidelity reference. */
    FULL(0),
    /** StreamingLLM: sink plus the most recent tokens. */
    STREAMING(1),
    /** Quest: positional pages ranked by a per-channel min/max digest. */
    QUEST(2),
    /** Oracle: positional pages ranked by their exact best token. */
    ORACLE(3),
    /** IceCache: DCI-tree pages of similar keys, searched per query head. */
    ICECACHE(4),
    /** IceCache(r): a layer's selection serves the next {@link #REUSE_LAYERS} layers. */
    ICECACHE_REUSE(5);

    /** Layers that reuse a selection in IceCache(r) (icecache.md "Defaults"). */
    public static final int REUSE_LAYERS = 2;

    private static final Map<Policy, Function<SelectorSpec, PageSelector>> FACTORIES = new EnumMap<>(Policy.class);

    static {
        FACTORIES.put(FULL, FullSelector::new);
        FACTORIES.put(STREAMING, StreamingSelector::new);
        FACTORIES.put(QUEST, QuestSelector::new);
        FACTORIES.put(ORACLE, OracleSelector::new);
        FACTORIES.put(ICECACHE, IceCacheSelector::new);
        FACTORIES.put(ICECACHE_REUSE, IceCacheSelector::new);
    }

    private final int code;

    Policy(int code) {
        this.code = code;
    }

    /** The stable code cache snapshots store for this policy (frozen; never the ordinal). */
    public int code() {
        return code;
    }

    /**
     * The policy saved as {@code code}.
     *
     * @throws IllegalArgumentException naming the code when no policy has it
     */
    public static Policy ofCode(int code) {
        for (Policy p : values()) {
            if (p.code == code) {
                return p;
            }
        }
        throw new IllegalArgumentException("policy code=" + code + " is unknown; the snapshot is corrupt or was"
                + " written by a newer version");
    }

    /** Following layers that reuse one layer's selection: {@link #REUSE_LAYERS} for IceCache(r), else 0. */
    public int reuseLayers() {
        return this == ICECACHE_REUSE ? REUSE_LAYERS : 0;
    }

    /** True when every position is attended whatever the budget. */
    public boolean attendsEverything() {
        return this == FULL;
    }

    /** A new selector of this policy. */
    public PageSelector newSelector(SelectorSpec spec) {
        return FACTORIES.get(this).apply(spec);
    }
}
