package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.page.PageStoreContract;

/** kvcache's PageStore contract on the keyed-state store (over a heap map state). */
class MapStatePageStoreContractTest extends PageStoreContract {

    @Override
    protected PageStore newStore(PageLayout layout, PageFormat format) {
        return new MapStatePageStore(new HeapMapState<>(), layout, format, 0);
    }
}
