package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.page.PageStoreContract;

/**
 * kvcache's PageStore contract on the keyed-state store when it may hold only about two pages
 * until the flush: the rest of the writes (pages and patches) go straight to the map states
 * while those held stay held, which must read back the same.
 */
class MapStatePageStoreWriteThroughContractTest extends PageStoreContract {

    private HeapMapState<Long, StoredPage> pages;
    private HeapMapState<Long, PagePatch> patches;

    @Override
    protected PageStore newStore(PageLayout layout, PageFormat format) {
        pages = new HeapMapState<>();
        patches = new HeapMapState<>();
        return holdingTwoPages(new MapStatePageStore(pages, patches, layout, format, 0));
    }

    @Override
    protected PageStore reopen(PageStore s) {
        MapStatePageStore store = (MapStatePageStore) s;
        store.flush();
        store.close();
        return holdingTwoPages(new MapStatePageStore(pages, patches, store.layout(), store.format(),
                store.pageCount()));
    }

    private static MapStatePageStore holdingTwoPages(MapStatePageStore store) {
        store.holdAtMost(2 * (64 + 4L * store.layout().floatsPerPage()));
        return store;
    }
}
