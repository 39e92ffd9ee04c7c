/**
 * Making a selection resident: {@link dev.icecache.kvcache.transfer.TransferPlan} diffs the selected
 * pages against each (layer, KV head)'s {@link dev.icecache.kvcache.transfer.ResidentSet}, then
 * gathers every page to move into one staging buffer and scatters it into pool slots.
 */
package dev.icecache.kvcache.transfer;
