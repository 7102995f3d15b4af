// The package ships no types: it exports the slot (0–16383) a Redis Cluster key hashes to.
declare module "cluster-key-slot" {
  function calculateSlot(key: string): number;
  export default calculateSlot;
}
