package dev.icecache.kvcache.page;

class InMemoryPageStoreTest extends PageStoreContract {

    @Override
    protected PageStore newStore(PageLayout layout, PageFormat format) {
        return new InMemoryPageStore(layout, format);
    }
}
