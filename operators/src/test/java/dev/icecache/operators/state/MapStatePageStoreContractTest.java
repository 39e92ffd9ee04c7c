package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.page.PageStoreContract;

/**
 * kvcache's PageStore contract on the keyed-state store (over heap map states), with page patches;
 * reopening flushes and opens a new store over the same states, as a restore does.
 */
class MapStatePageStoreContractTest extends PageStoreContract {

    private HeapMapState<Long, StoredPage> pages;
    private HeapMapState<Long, PagePatch> patches;

    @Override
    protected PageStore newStore(PageLayout layout, PageFormat format) {
        pages = new HeapMapState<>();
        patches = new HeapMapState<>();
        return opened(new MapStatePageStore(pages, patches, layout, format, 0));
    }

    @Override
    protected PageStore reopen(PageStore s) {
        MapStatePageStore store = (MapStatePageStore) s;
        store.flush();
        store.close();
        return opened(new MapStatePageStore(pages, patches, store.layout(), store.format(), store.pageCount()));
    }

    /** A store as the contract gets it (subclasses bound what it holds). */
    MapStatePageStore opened(MapStatePageStore store) {
        return store;
    }
}
