package dev.icecache.operators.state;

/**
 * kvcache's PageStore contract on the keyed-state store when it may hold only about two pages
 * until the flush: the rest of the writes (pages and patches) go straight to the map states
 * while those held stay held, which must read back the same.
 */
class MapStatePageStoreWriteThroughContractTest extends MapStatePageStoreContractTest {

    @Override
    MapStatePageStore opened(MapStatePageStore store) {
        store.holdAtMost(2 * (64 + 4L * store.layout().floatsPerPage()));
        return store;
    }
}
