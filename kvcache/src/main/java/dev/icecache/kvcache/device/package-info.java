/**
 * The device-resident decode seam (issue 14): a {@code PagedKvCache} keeps selecting and moving
 * pages on the host and tells a {@link dev.icecache.kvcache.device.ResidentMirror} of every slot
 * change, and lists the pool pages of a step into a {@link dev.icecache.kvcache.device.PageListing}
 * instead of attending on the host. The current chunk's rows and the dense layers stay with the
 * caller (the device keeps them in its own pages).
 */
package dev.icecache.kvcache.device;
