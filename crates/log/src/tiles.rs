//! Authenticated reads of another log's hash tiles (C2SP tlog-tiles), for a party that holds
//! only a signed checkpoint: a partner's mirror, an auditor.
//!
//! [`AuthenticatedTiles`] is a [`tlog_tiles::HashReader`] over tiles fetched from anywhere
//! (a [`TileSource`]): every tile it returns a hash from was checked, the tiles holding the
//! roots of the tree's perfect subtrees against the signed root, every other tile against its
//! (already checked) parent tile. So `tlog_tiles::tree_hash`, `prove_tree` and `prove_record`
//! over it give only hashes the signer committed to; a tile that was altered, or that belongs
//! to another tree, fails with `tlog_tiles::Error::InconsistentTile`.
//!
//! This is Go tlog's `TileHashReader` algorithm, done here because `tlog_tiles` 0.2.0's port
//! starts the parent check at the count of subtree *indexes* rather than of the distinct
//! tiles holding them: when two subtree roots share a tile (a tree of 704 leaves, say), the
//! first tile after them is never checked, and an altered tile passes (the test
//! `given_two_subtree_roots_in_one_tile_…` below is that case).

use std::collections::HashMap;

use tlog_tiles::{HashReader, Tile};

use crate::checkpoint::Checkpoint;
use crate::merkle::{Hash, TILE_HEIGHT};

/// Where tiles come from: a partner over HTTP, a cache, a file tree. The bytes need not be
/// trusted; [`AuthenticatedTiles`] checks them.
pub trait TileSource {
    /// The bytes of each tile (`tile.width()` hashes of 32 bytes), in order. A source that
    /// cannot serve one fails the whole read (and may keep its own, richer error aside).
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error>;

    /// Called with tiles that were authenticated against the signed root, e.g. to cache them.
    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

/// The hashes of the tree of one signed checkpoint, read from a [`TileSource`], every tile
/// authenticated (see the module documentation).
pub struct AuthenticatedTiles<'a, S: TileSource + ?Sized> {
    size: u64,
    root: Hash,
    source: &'a S,
}

impl<'a, S: TileSource + ?Sized> AuthenticatedTiles<'a, S> {
    /// Reads of the tree `checkpoint` signs (its size and root), from `source`.
    pub fn new(checkpoint: &Checkpoint, source: &'a S) -> AuthenticatedTiles<'a, S> {
        AuthenticatedTiles {
            size: checkpoint.size,
            root: checkpoint.root,
            source,
        }
    }
}

impl<S: TileSource + ?Sized> HashReader for AuthenticatedTiles<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        use tlog_tiles::Error::{BadMath, InconsistentTile, IndexesNotInTree};
        if self.size == 0 {
            return Err(IndexesNotInTree);
        }
        let height = TILE_HEIGHT;
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles: Vec<Tile> = Vec::new();
        let mut add = |tile: Tile, order: &mut HashMap<Tile, usize>| -> usize {
            *order.entry(tile).or_insert_with(|| {
                tiles.push(tile);
                tiles.len() - 1
            })
        };
        // The tiles holding the roots of the perfect subtrees that make up the tree.
        let subtrees = tlog_tiles::sub_tree_index(0, self.size, Vec::new());
        let mut subtree_tiles = Vec::with_capacity(subtrees.len());
        for &index in &subtrees {
            let tile = Tile::from_index(height, index)
                .parent(0, self.size)
                .ok_or(BadMath)?;
            subtree_tiles.push(add(tile, &mut order));
        }
        // Distinct tiles, not subtree indexes: two roots may share one.
        let authenticated_by_root = order.len();
        // The tiles holding the requested hashes, and the full tiles between them and an
        // authenticated ancestor, parents before children.
        let mut index_tiles = Vec::with_capacity(indexes.len());
        for &index in indexes {
            if index >= tlog_tiles::stored_hash_index(0, self.size) {
                return Err(IndexesNotInTree);
            }
            let tile = Tile::from_index(height, index);
            let mut up = 0u8;
            loop {
                let parent = tile.parent(up, self.size).ok_or(BadMath)?;
                if order.contains_key(&parent) {
                    break;
                }
                up = up.checked_add(1).filter(|up| *up < 8).ok_or(BadMath)?;
            }
            for k in (0..up).rev() {
                let parent = tile.parent(k, self.size).ok_or(BadMath)?;
                if parent.width() != 1 << height {
                    return Err(BadMath); // only full tiles have parents
                }
                add(parent, &mut order);
            }
            let own = tile.parent(0, self.size).ok_or(BadMath)?;
            index_tiles.push(*order.get(&own).ok_or(BadMath)?);
        }
        let data = self.source.read_tiles(&tiles)?;
        if data.len() != tiles.len() {
            return Err(BadMath);
        }
        for (tile, bytes) in tiles.iter().zip(&data) {
            if bytes.len() != tile.width() as usize * tlog_tiles::HASH_SIZE {
                return Err(BadMath);
            }
        }
        // The subtree roots hash to the signed root.
        let last = subtrees.len() - 1;
        let mut root =
            tiles[subtree_tiles[last]].hash_at_index(&data[subtree_tiles[last]], subtrees[last])?;
        for position in (0..last).rev() {
            let tile = subtree_tiles[position];
            let left = tiles[tile].hash_at_index(&data[tile], subtrees[position])?;
            root = tlog_tiles::node_hash(left, root);
        }
        if root.0 != self.root {
            return Err(InconsistentTile);
        }
        // Every other tile hashes to its entry in its parent tile.
        for position in authenticated_by_root..tiles.len() {
            let tile = tiles[position];
            let parent = tile.parent(1, self.size).ok_or(BadMath)?;
            let parent_position = *order.get(&parent).ok_or(BadMath)?;
            if parent_position >= position {
                return Err(BadMath);
            }
            let expected = parent.hash_at_index(
                &data[parent_position],
                tlog_tiles::stored_hash_index(parent.level() * height, tile.level_index()),
            )?;
            if expected != Tile::subtree_hash(&data[position]) {
                return Err(InconsistentTile);
            }
        }
        self.source.save_tiles(&tiles, &data);
        indexes
            .iter()
            .zip(index_tiles)
            .map(|(&index, position)| tiles[position].hash_at_index(&data[position], index))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::merkle::{leaf_hash, MerkleTree, TreeReader};

    /// Tiles served from a tree, with one tile's first hash flipped when asked.
    struct Served {
        tree: TreeReader,
        altered: Option<(u8, u64)>,
        saved: Cell<usize>,
    }

    impl TileSource for Served {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
            tiles
                .iter()
                .map(|tile| {
                    let width =
                        u16::try_from(tile.width()).map_err(|_| tlog_tiles::Error::BadMath)?;
                    let mut bytes = self
                        .tree
                        .tile(tile.level(), tile.level_index(), width)
                        .map_err(|_| tlog_tiles::Error::InvalidTile)?;
                    if self.altered == Some((tile.level(), tile.level_index())) {
                        bytes[0] ^= 1;
                    }
                    Ok(bytes)
                })
                .collect()
        }

        fn save_tiles(&self, tiles: &[Tile], _data: &[Vec<u8>]) {
            self.saved.set(self.saved.get() + tiles.len());
        }
    }

    fn tree_of(leaves: u64) -> (tempfile::TempDir, MerkleTree, Vec<Vec<u8>>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tree = MerkleTree::open(dir.path()).expect("open tree");
        let entries: Vec<Vec<u8>> = (0..leaves)
            .map(|n| format!("entry {n}").into_bytes())
            .collect();
        let hashes: Vec<Hash> = entries.iter().map(|entry| leaf_hash(entry)).collect();
        tree.append(&hashes).expect("append");
        (dir, tree, entries)
    }

    fn checkpoint_of(tree: &MerkleTree) -> Checkpoint {
        let size = tree.size();
        Checkpoint {
            origin: "test.example/log".to_string(),
            size,
            root: tree.reader().root(size).expect("root"),
            time_unix_s: 0,
        }
    }

    #[test]
    fn given_honest_tiles_when_leaves_and_the_root_are_read_then_they_are_the_trees() {
        let (_dir, tree, entries) = tree_of(1_000);
        let checkpoint = checkpoint_of(&tree);
        let source = Served {
            tree: tree.reader(),
            altered: None,
            saved: Cell::new(0),
        };
        let reader = AuthenticatedTiles::new(&checkpoint, &source);
        let indexes: Vec<u64> = [0u64, 255, 256, 700, 999]
            .iter()
            .map(|&n| tlog_tiles::stored_hash_index(0, n))
            .collect();
        let hashes = reader.read_hashes(&indexes).expect("authenticated");
        for (n, hash) in [0usize, 255, 256, 700, 999].iter().zip(&hashes) {
            assert_eq!(hash.0, leaf_hash(&entries[*n]));
        }
        assert!(
            source.saved.get() > 0,
            "authenticated tiles are offered for caching"
        );
        let root = tlog_tiles::tree_hash(600, &reader).expect("root at 600");
        assert_eq!(root.0, tree.reader().root(600).expect("own root"));
    }

    #[test]
    fn given_two_subtree_roots_in_one_tile_when_a_leaf_tile_is_altered_then_it_is_refused() {
        // 704 = 512 + 128 + 64: the roots of [512, 640) and [640, 704) are both in tile 0/2,
        // so three subtree indexes live in two tiles; the leaf tile 0/0 comes third.
        let (_dir, tree, _) = tree_of(704);
        let checkpoint = checkpoint_of(&tree);
        let source = Served {
            tree: tree.reader(),
            altered: Some((0, 0)),
            saved: Cell::new(0),
        };
        let reader = AuthenticatedTiles::new(&checkpoint, &source);
        let leaf = tlog_tiles::stored_hash_index(0, 5);
        assert!(matches!(
            reader.read_hashes(&[leaf]),
            Err(tlog_tiles::Error::InconsistentTile)
        ));
        assert_eq!(source.saved.get(), 0, "nothing unauthenticated is cached");
    }

    #[test]
    fn given_a_tile_of_another_tree_when_the_root_is_checked_then_it_is_refused() {
        let (_dir, tree, _) = tree_of(300);
        let mut checkpoint = checkpoint_of(&tree);
        checkpoint.root[0] ^= 1;
        let source = Served {
            tree: tree.reader(),
            altered: None,
            saved: Cell::new(0),
        };
        let reader = AuthenticatedTiles::new(&checkpoint, &source);
        assert!(matches!(
            tlog_tiles::tree_hash(300, &reader),
            Err(tlog_tiles::Error::InconsistentTile)
        ));
    }
}
