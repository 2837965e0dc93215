// A sharded run's share of the users: shard I of N takes the plan indexes i ≡ I (mod N), so
// shards never overlap, together cover every user, and names keep the plan-wide index.

/** The plan indexes of shard `index` of `count`. */
export function shardUserIndexes(users: number, shard: { index: number; count: number }): number[] {
  const indexes: number[] = [];
  for (let i = shard.index; i < users; i += shard.count) indexes.push(i);
  return indexes;
}
