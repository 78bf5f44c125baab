//! Geometry as pure functions: where every broker, replica, producer,
//! consumer group and metadata node sits in the SVG, computed from the
//! engine's view. Components only place what this computes; tests check it
//! natively.

use kafkasim_engine::view::ClusterView;
use kafkasim_engine::{BrokerId, NodeId, TopicPartition};

/// The SVG's coordinate system (a 16:9-ish canvas that scales with `viewBox`).
pub const WIDTH: f64 = 1200.0;
pub const HEIGHT: f64 = 620.0;
/// The least canvas height, so an empty cluster is not drawn huge.
const MIN_HEIGHT: f64 = 340.0;
/// Wide enough for the metadata quorum's title, centred at 600.
const MIN_WIDTH: f64 = 760.0;

const BROKER_AREA_LEFT: f64 = 190.0;
const BROKER_AREA_RIGHT: f64 = 930.0;
/// The consumer groups column, right of the cluster (the seed's picture).
pub const GROUPS_LEFT: f64 = 955.0;
const GROUPS_RIGHT: f64 = 1190.0;
const GROUP_HEADER_H: f64 = 72.0;
const CONSUMER_H: f64 = 44.0;
const CONSUMER_GAP: f64 = 8.0;
const GROUP_GAP: f64 = 14.0;
const BROKER_TOP: f64 = 150.0;
const BROKER_GAP: f64 = 16.0;
const HEADER_H: f64 = 44.0;
const PILL_H: f64 = 30.0;
const PILL_GAP: f64 = 6.0;
/// Rows drawn per broker before the rest are summarised as "+N more".
pub const MAX_ROWS: usize = 11;
/// Compact mode (many brokers or replicas): each replica is a small tile.
pub const TILE: f64 = 16.0;
const TILE_STEP: f64 = 20.0;
/// Tile rows that fit under the broker header on the canvas.
const MAX_TILE_ROWS: usize = 20;
/// How much larger the metadata quorum's circles are in presenter mode.
const LARGE_CIRCLES: f64 = 1.3;
/// Below this column width the broker's name shortens to `B7`.
pub const NARROW: f64 = 120.0;

/// The portrait picture for phones: everything stacked in one column of
/// this width, read top to bottom as the seed's picture is read left to
/// right (metadata, producers, brokers, consumer groups).
pub const PORTRAIT_WIDTH: f64 = 400.0;
const PORTRAIT_MARGIN: f64 = 10.0;
/// Brokers side by side in portrait: two leave each one room for labels.
const PORTRAIT_BROKERS_PER_ROW: usize = 2;
/// Metadata quorum, producers and brokers from the top, in portrait.
const PORTRAIT_PRODUCERS_Y: f64 = 166.0;
const PORTRAIT_BROKER_TOP: f64 = 250.0;

/// How the picture is laid out: as the seed draws it, or stacked for a
/// phone held upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Landscape,
    Portrait,
}

/// A column's title: where it sits and how it is anchored (`start` or
/// `middle`).
#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    pub x: f64,
    pub y: f64,
    pub anchor: &'static str,
}

/// Where the three column titles go.
#[derive(Debug, Clone, PartialEq)]
pub struct Titles {
    pub quorum: Title,
    pub producers: Title,
    pub groups: Title,
}

/// Okabe–Ito: a qualitative palette that colour-blind students can tell apart.
pub const PARTITION_COLOURS: [&str; 7] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
];

pub fn partition_colour(partition: u32) -> &'static str {
    PARTITION_COLOURS[partition as usize % PARTITION_COLOURS.len()]
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w + 1e-9
            && other.y + other.h <= self.y + self.h + 1e-9
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PillBox {
    pub tp: TopicPartition,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BrokerBox {
    pub id: BrokerId,
    pub rect: Rect,
    /// Replicas as tiles instead of labelled pills: the aggregated view
    /// for large clusters.
    pub compact: bool,
    pub pills: Vec<PillBox>,
    /// Replicas not drawn for lack of room.
    pub hidden: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeCircle {
    pub node: NodeId,
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
}

/// One consumer inside its group's box.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerBox {
    pub id: kafkasim_engine::ConsumerId,
    pub rect: Rect,
}

/// A consumer group (or, for `assign()` consumers without a group, their own
/// box named by the consumer).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBox {
    pub name: Option<String>,
    pub rect: Rect,
    pub consumers: Vec<ConsumerBox>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub shape: Shape,
    pub brokers: Vec<BrokerBox>,
    pub producers: Vec<NodeCircle>,
    pub quorum: Vec<NodeCircle>,
    pub groups: Vec<GroupBox>,
    pub titles: Titles,
}

/// Internal topics (`__consumer_offsets`) stay out of the broker columns:
/// fifty partitions would bury the lesson. The group box names its
/// coordinator instead.
pub fn is_internal(tp: &TopicPartition) -> bool {
    tp.topic.starts_with("__")
}

impl Layout {
    /// The picture with `__consumer_offsets` hidden, as it starts.
    pub fn compute(view: &ClusterView) -> Layout {
        Layout::compute_with(view, false)
    }

    /// The picture, with internal topics' replicas drawn in the broker
    /// columns when `show_internal`.
    pub fn compute_with(view: &ClusterView, show_internal: bool) -> Layout {
        Layout::compute_shaped(view, show_internal, Shape::Landscape)
    }

    /// The picture in either shape.
    pub fn compute_shaped(view: &ClusterView, show_internal: bool, shape: Shape) -> Layout {
        Layout::compute_for(view, show_internal, shape, false)
    }

    /// The picture for presenter mode when `large`: its type is larger
    /// (the stylesheet's), so the metadata quorum's circles grow to hold
    /// their names; boxes keep their size, so the picture is not scaled
    /// down to make room and the type gains all it can on screen.
    pub fn compute_for(
        view: &ClusterView,
        show_internal: bool,
        shape: Shape,
        large: bool,
    ) -> Layout {
        let k = if large { LARGE_CIRCLES } else { 1.0 };
        let quorum = view.quorum.iter().map(|q| q.node);
        let producers = view.producers.iter().map(|p| NodeId::Producer(p.id));
        match shape {
            Shape::Landscape => Layout {
                shape,
                brokers: broker_boxes(
                    view,
                    show_internal,
                    Grid {
                        left: BROKER_AREA_LEFT,
                        right: BROKER_AREA_RIGHT,
                        top: BROKER_TOP,
                        per_row: view.brokers.len().max(1),
                    },
                ),
                producers: column(producers, 100.0, BROKER_TOP + 30.0, 34.0),
                quorum: row(
                    quorum,
                    60.0,
                    26.0 * k,
                    (BROKER_AREA_LEFT, BROKER_AREA_RIGHT),
                ),
                groups: group_boxes(view, GROUPS_LEFT, GROUPS_RIGHT, BROKER_TOP),
                titles: Titles {
                    quorum: Title {
                        x: 600.0,
                        y: 18.0,
                        anchor: "middle",
                    },
                    producers: Title {
                        x: 100.0,
                        y: 130.0,
                        anchor: "middle",
                    },
                    groups: Title {
                        x: GROUPS_LEFT,
                        y: 130.0,
                        anchor: "start",
                    },
                },
            },
            Shape::Portrait => {
                let (left, right) = (PORTRAIT_MARGIN, PORTRAIT_WIDTH - PORTRAIT_MARGIN);
                let brokers = broker_boxes(
                    view,
                    show_internal,
                    Grid {
                        left,
                        right,
                        top: PORTRAIT_BROKER_TOP,
                        per_row: PORTRAIT_BROKERS_PER_ROW,
                    },
                );
                let below = brokers
                    .iter()
                    .map(|b| b.rect.y + b.rect.h)
                    .fold(PORTRAIT_BROKER_TOP, f64::max);
                let groups_top = below + 44.0;
                let centre = PORTRAIT_WIDTH / 2.0;
                Layout {
                    shape,
                    brokers,
                    producers: row(producers, PORTRAIT_PRODUCERS_Y, 28.0, (left, right)),
                    quorum: row(quorum, 60.0, 24.0 * k, (left, right)),
                    groups: group_boxes(view, left, right, groups_top),
                    titles: Titles {
                        quorum: Title {
                            x: centre,
                            y: 18.0,
                            anchor: "middle",
                        },
                        producers: Title {
                            x: centre,
                            y: PORTRAIT_PRODUCERS_Y - 44.0,
                            anchor: "middle",
                        },
                        groups: Title {
                            x: left,
                            y: groups_top - 14.0,
                            anchor: "start",
                        },
                    },
                }
            }
        }
    }

    /// The canvas height: down to the lowest thing drawn (so a small scene
    /// is drawn large), and past `HEIGHT` when many groups or producers
    /// stack below it (the picture then scales down to fit).
    pub fn height(&self) -> f64 {
        let brokers = self.brokers.iter().map(|b| b.rect.y + b.rect.h);
        let groups = self.groups.iter().map(|g| g.rect.y + g.rect.h);
        let producers = self.producers.iter().map(|p| p.cy + p.r + 24.0);
        brokers
            .chain(groups)
            .chain(producers)
            .map(|bottom| bottom + 12.0)
            .fold(MIN_HEIGHT, f64::max)
    }

    /// The canvas width: up to the rightmost thing drawn, so a scene
    /// without consumer groups (or with few brokers) is drawn larger.
    pub fn width(&self) -> f64 {
        if self.shape == Shape::Portrait {
            return PORTRAIT_WIDTH;
        }
        let brokers = self.brokers.iter().map(|b| b.rect.x + b.rect.w);
        let groups = self.groups.iter().map(|g| g.rect.x + g.rect.w);
        let circles = self
            .quorum
            .iter()
            .chain(&self.producers)
            .map(|c| c.cx + c.r);
        brokers
            .chain(groups)
            .chain(circles)
            .map(|right| right + 16.0)
            .fold(MIN_WIDTH, f64::max)
            .min(WIDTH)
    }

    /// Where a message to or from `node` about `tp` should start or end.
    pub fn anchor(&self, node: NodeId, tp: Option<&TopicPartition>) -> Option<(f64, f64)> {
        match node {
            NodeId::Broker(id) => {
                let b = self.brokers.iter().find(|b| b.id == id)?;
                let pill = tp.and_then(|tp| b.pills.iter().find(|p| &p.tp == tp));
                Some(match pill {
                    Some(p) => p.rect.centre(),
                    None => (b.rect.x + b.rect.w / 2.0, b.rect.y + HEADER_H / 2.0),
                })
            }
            NodeId::Consumer(id) => self
                .groups
                .iter()
                .flat_map(|g| &g.consumers)
                .find(|c| c.id == id)
                .map(|c| (c.rect.x, c.rect.y + c.rect.h / 2.0)),
            _ => self
                .producers
                .iter()
                .chain(&self.quorum)
                .find(|c| c.node == node)
                .map(|c| (c.cx, c.cy)),
        }
    }
}

impl Layout {
    /// Where a redirect arrow runs: from the client's edge to the side of
    /// the replica facing it (its broker's header when the replica is not
    /// drawn). `None` when either end is not on the picture.
    pub fn redirect_ends(
        &self,
        client: NodeId,
        to: BrokerId,
        tp: &TopicPartition,
    ) -> Option<((f64, f64), (f64, f64))> {
        let start = match client {
            NodeId::Consumer(_) => self.anchor(client, None)?,
            _ => {
                let c = self.producers.iter().find(|c| c.node == client)?;
                match self.shape {
                    Shape::Landscape => (c.cx + c.r, c.cy),
                    Shape::Portrait => (c.cx, c.cy + c.r),
                }
            }
        };
        let b = self.brokers.iter().find(|b| b.id == to)?;
        let end = match b.pills.iter().find(|p| &p.tp == tp) {
            Some(p) if start.0 < p.rect.x => (p.rect.x, p.rect.centre().1),
            Some(p) => (p.rect.x + p.rect.w, p.rect.centre().1),
            None => self.anchor(NodeId::Broker(to), None)?,
        };
        Some((start, end))
    }
}

/// Where the broker columns go: between `left` and `right` from `top`,
/// `per_row` side by side, further rows below.
struct Grid {
    left: f64,
    right: f64,
    top: f64,
    per_row: usize,
}

fn broker_boxes(view: &ClusterView, show_internal: bool, grid: Grid) -> Vec<BrokerBox> {
    let per_row = grid.per_row.clamp(1, view.brokers.len().max(1));
    let n = per_row as f64;
    let area = grid.right - grid.left;
    let gap = if n > 6.0 { 6.0 } else { BROKER_GAP };
    let w = ((area - gap * (n - 1.0)) / n).min(220.0);
    let total = w * n + gap * (n - 1.0);
    let left = grid.left + (area - total) / 2.0;
    let lists: Vec<Vec<&TopicPartition>> = view
        .brokers
        .iter()
        .map(|b| {
            let mut tps: Vec<&TopicPartition> = b
                .replicas
                .iter()
                .map(|r| &r.tp)
                .filter(|tp| show_internal || !is_internal(tp))
                .collect();
            tps.sort();
            tps
        })
        .collect();
    let most = lists.iter().map(Vec::len).max().unwrap_or(0);
    // Pills need a readable width and at most MAX_ROWS rows; past that the
    // picture switches to tiles rather than becoming unreadable.
    let compact = w < NARROW || most > MAX_ROWS;
    let cols = if compact {
        (((w - 12.0 + TILE_STEP - TILE) / TILE_STEP).floor() as usize).max(1)
    } else {
        1
    };
    let max_shown = if compact {
        cols * MAX_TILE_ROWS
    } else {
        MAX_ROWS
    };
    let rows = most.min(max_shown).div_ceil(cols);
    let row_h = if compact {
        TILE_STEP
    } else {
        PILL_H + PILL_GAP
    };
    let h = (HEADER_H + rows as f64 * row_h + 24.0).max(150.0);
    view.brokers
        .iter()
        .zip(lists)
        .enumerate()
        .map(|(i, (b, replicas))| {
            let x = left + (i % per_row) as f64 * (w + gap);
            let top = grid.top + (i / per_row) as f64 * (h + BROKER_GAP);
            let pills = replicas
                .iter()
                .take(max_shown)
                .enumerate()
                .map(|(k, tp)| {
                    let rect = if compact {
                        Rect {
                            x: x + 6.0 + (k % cols) as f64 * TILE_STEP,
                            y: top + HEADER_H + (k / cols) as f64 * TILE_STEP,
                            w: TILE,
                            h: TILE,
                        }
                    } else {
                        Rect {
                            x: x + 8.0,
                            y: top + HEADER_H + k as f64 * (PILL_H + PILL_GAP),
                            w: w - 16.0,
                            h: PILL_H,
                        }
                    };
                    PillBox {
                        tp: (*tp).clone(),
                        rect,
                    }
                })
                .collect();
            BrokerBox {
                id: b.id,
                rect: Rect { x, y: top, w, h },
                compact,
                pills,
                hidden: replicas.len().saturating_sub(max_shown),
            }
        })
        .collect()
}

/// Groups stacked top to bottom in name order, each listing its consumers
/// by id; consumers without a group get a box of their own at the end.
fn group_boxes(view: &ClusterView, left: f64, right: f64, top: f64) -> Vec<GroupBox> {
    let mut named: Vec<(Option<String>, Vec<kafkasim_engine::ConsumerId>)> = Vec::new();
    for g in &view.groups {
        let members = view
            .consumers
            .iter()
            .filter(|c| c.group.as_deref() == Some(g.group.as_str()))
            .map(|c| c.id)
            .collect();
        named.push((Some(g.group.clone()), members));
    }
    for c in view.consumers.iter().filter(|c| c.group.is_none()) {
        named.push((None, vec![c.id]));
    }
    let w = right - left;
    let mut y = top;
    named
        .into_iter()
        .map(|(name, members)| {
            let n = members.len().max(1) as f64;
            let h = GROUP_HEADER_H + n * (CONSUMER_H + CONSUMER_GAP) + 4.0;
            let consumers = members
                .into_iter()
                .enumerate()
                .map(|(i, id)| ConsumerBox {
                    id,
                    rect: Rect {
                        x: left + 10.0,
                        y: y + GROUP_HEADER_H + i as f64 * (CONSUMER_H + CONSUMER_GAP),
                        w: w - 20.0,
                        h: CONSUMER_H,
                    },
                })
                .collect();
            let rect = Rect { x: left, y, w, h };
            y += h + GROUP_GAP;
            GroupBox {
                name,
                rect,
                consumers,
            }
        })
        .collect()
}

fn column(nodes: impl Iterator<Item = NodeId>, cx: f64, top: f64, r: f64) -> Vec<NodeCircle> {
    nodes
        .enumerate()
        .map(|(i, node)| NodeCircle {
            node,
            cx,
            cy: top + i as f64 * (2.0 * r + 26.0),
            r,
        })
        .collect()
}

/// Circles side by side, centred between `left` and `right`, closer
/// together and smaller when there are too many for the room.
fn row(
    nodes: impl Iterator<Item = NodeId>,
    cy: f64,
    r: f64,
    (left, right): (f64, f64),
) -> Vec<NodeCircle> {
    let nodes: Vec<NodeId> = nodes.collect();
    let room = (right - left) / nodes.len().max(1) as f64;
    let fit = (room / (2.0 * r + 40.0)).min(1.0);
    let (r, step) = (r * fit, (2.0 * r + 40.0) * fit);
    let centre = (left + right) / 2.0;
    let first = centre - step * (nodes.len().saturating_sub(1)) as f64 / 2.0;
    nodes
        .into_iter()
        .enumerate()
        .map(|(i, node)| NodeCircle {
            node,
            cx: first + i as f64 * step,
            cy,
            r,
        })
        .collect()
}

/// Linear position along a message's path at `time` (virtual ms, fractional).
pub fn along(from: (f64, f64), to: (f64, f64), sent: f64, arrives: f64, time: f64) -> (f64, f64) {
    let span = (arrives - sent).max(1e-9);
    let t = ((time - sent) / span).clamp(0.0, 1.0);
    (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
}

/// Zoom factors the diagram steps through: whole picture to a third of it.
pub const ZOOMS: [f64; 6] = [1.0, 1.25, 1.5, 2.0, 2.5, 3.0];

/// The next zoom up or down the ladder from `zoom`.
pub fn next_zoom(zoom: f64, closer: bool) -> f64 {
    next_on_ladder(&ZOOMS, zoom, closer)
}

/// The rung above (`up`) or below `value` on an ascending `ladder` (the
/// speeds, the zooms), staying on it at either end.
pub fn next_on_ladder(ladder: &[f64], value: f64, up: bool) -> f64 {
    let i = ladder
        .iter()
        .position(|r| *r >= value - 1e-9)
        .unwrap_or(ladder.len() - 1);
    let j = if up {
        (i + 1).min(ladder.len() - 1)
    } else {
        i.saturating_sub(1)
    };
    ladder[j]
}

/// The part of a `size` canvas shown at `zoom`, as a viewBox `(x, y, w, h)`:
/// centred on `focus` where it can be, never past the canvas's edges.
pub fn zoomed(size: (f64, f64), zoom: f64, focus: Option<(f64, f64)>) -> (f64, f64, f64, f64) {
    let zoom = zoom.max(1.0);
    let (w, h) = (size.0 / zoom, size.1 / zoom);
    let (fx, fy) = focus.unwrap_or((size.0 / 2.0, size.1 / 2.0));
    let x = (fx - w / 2.0).clamp(0.0, size.0 - w);
    let y = (fy - h / 2.0).clamp(0.0, size.1 - h);
    (x, y, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkasim_engine::run::presets;
    use kafkasim_engine::{Cluster, ClusterConfig, Command};

    fn view_with_brokers(n: u32, partitions: u32) -> ClusterView {
        let config = ClusterConfig {
            brokers: (1..=n).collect(),
            ..ClusterConfig::default()
        };
        let mut c = Cluster::new(config).unwrap();
        c.advance(200);
        c.apply(Command::CreateTopic {
            name: "t".into(),
            partitions: Some(partitions),
            replication_factor: Some(n.min(3)),
            assignment: None,
            config: Default::default(),
        })
        .unwrap();
        c.advance(200);
        c.view()
    }

    #[test]
    fn groups_sit_right_of_the_brokers_with_their_consumers_inside() {
        let (mut c, _) = presets::consumer_groups().run(None).unwrap();
        c.advance(10_000);
        let view = c.view();
        let layout = Layout::compute(&view);
        let names: Vec<Option<&str>> = layout.groups.iter().map(|g| g.name.as_deref()).collect();
        assert_eq!(names, vec![Some("audit"), Some("billing")]);
        let right_of_brokers = layout
            .brokers
            .iter()
            .map(|b| b.rect.x + b.rect.w)
            .fold(0.0, f64::max);
        for g in &layout.groups {
            assert!(g.rect.x > right_of_brokers);
            assert!(g.rect.x + g.rect.w <= WIDTH);
            for c in &g.consumers {
                assert!(g.rect.contains(&c.rect), "{c:?} outside {g:?}");
            }
        }
        for pair in layout.groups.windows(2) {
            assert!(
                pair[0].rect.y + pair[0].rect.h <= pair[1].rect.y,
                "groups overlap"
            );
        }
        assert_eq!(layout.groups[1].consumers.len(), 2);
        // __consumer_offsets is not drawn in the broker columns.
        assert!(layout
            .brokers
            .iter()
            .flat_map(|b| &b.pills)
            .all(|p| !is_internal(&p.tp)));
        assert!(layout
            .anchor(NodeId::Consumer(kafkasim_engine::ConsumerId(1)), None)
            .is_some());
    }

    #[test]
    fn brokers_fit_side_by_side_from_1_to_12() {
        for n in 1..=12 {
            let layout = Layout::compute(&view_with_brokers(n, 6));
            assert_eq!(layout.brokers.len(), n as usize);
            for pair in layout.brokers.windows(2) {
                assert!(
                    pair[0].rect.x + pair[0].rect.w <= pair[1].rect.x,
                    "overlap at n={n}"
                );
            }
            let last = layout.brokers.last().unwrap();
            assert!(layout.brokers[0].rect.x >= BROKER_AREA_LEFT);
            assert!(last.rect.x + last.rect.w <= BROKER_AREA_RIGHT + 1e-9);
            assert!(last.rect.y + last.rect.h <= HEIGHT, "too tall at n={n}");
        }
    }

    #[test]
    fn small_clusters_draw_labelled_pills() {
        let layout = Layout::compute(&view_with_brokers(3, 6));
        assert!(layout.brokers.iter().all(|b| !b.compact && b.hidden == 0));
    }

    #[test]
    fn large_clusters_switch_to_tiles_that_stay_inside_their_broker() {
        for (brokers, partitions) in [(3, 40), (12, 6), (12, 72), (6, 50)] {
            let layout = Layout::compute(&view_with_brokers(brokers, partitions));
            for b in &layout.brokers {
                assert!(b.compact, "{brokers} brokers × {partitions} partitions");
                assert!(
                    b.rect.y + b.rect.h <= HEIGHT,
                    "too tall at {brokers}×{partitions}"
                );
                for p in &b.pills {
                    assert!(
                        b.rect.contains(&p.rect),
                        "{:?} outside {:?}",
                        p.rect,
                        b.rect
                    );
                }
                for (i, a) in b.pills.iter().enumerate() {
                    for c in &b.pills[i + 1..] {
                        let apart = a.rect.x + a.rect.w <= c.rect.x
                            || c.rect.x + c.rect.w <= a.rect.x
                            || a.rect.y + a.rect.h <= c.rect.y
                            || c.rect.y + c.rect.h <= a.rect.y;
                        assert!(apart, "tiles overlap: {:?} {:?}", a.rect, c.rect);
                    }
                }
            }
        }
        // Showing __consumer_offsets: its 50 partitions join the columns.
        let (mut c, _) = presets::consumer_groups().run(None).unwrap();
        c.advance(10_000);
        let view = c.view();
        let hidden = Layout::compute(&view);
        let shown = Layout::compute_with(&view, true);
        let count =
            |l: &Layout| -> usize { l.brokers.iter().map(|b| b.pills.len() + b.hidden).sum() };
        assert!(count(&shown) >= count(&hidden) + 50);
        assert!(shown.brokers.iter().all(|b| b.compact));
        // Past what the canvas holds, the rest is counted, not drawn.
        let layout = Layout::compute(&view_with_brokers(3, 400));
        for b in &layout.brokers {
            assert!(b.hidden > 0);
            assert!(b.rect.y + b.rect.h <= HEIGHT);
        }
    }

    #[test]
    fn portrait_stacks_metadata_producers_brokers_and_groups_within_a_phone_width() {
        let overlap = |a: &Rect, b: &Rect| {
            a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
        };
        let (mut c, _) = presets::consumer_groups().run(None).unwrap();
        c.advance(10_000);
        let mut views = vec![c.view()];
        views.extend((1..=12).map(|n| view_with_brokers(n, 6)));
        views.push(view_with_brokers(12, 72));
        for view in &views {
            let l = Layout::compute_shaped(view, false, Shape::Portrait);
            assert_eq!(l.width(), PORTRAIT_WIDTH);
            let inside = |x0: f64, x1: f64| x0 >= 0.0 && x1 <= PORTRAIT_WIDTH;
            let circles = l.quorum.iter().chain(&l.producers);
            assert!(circles.clone().all(|c| inside(c.cx - c.r, c.cx + c.r)));
            assert!(l
                .brokers
                .iter()
                .all(|b| inside(b.rect.x, b.rect.x + b.rect.w)));
            assert!(l
                .groups
                .iter()
                .all(|g| inside(g.rect.x, g.rect.x + g.rect.w)));
            for (i, a) in l.brokers.iter().enumerate() {
                assert!(l.brokers[i + 1..]
                    .iter()
                    .all(|b| !overlap(&a.rect, &b.rect)));
                assert!(a.pills.iter().all(|p| a.rect.contains(&p.rect)));
                assert!(a.rect.w >= NARROW, "two to a row leave room for labels");
            }
            // Top to bottom: metadata, producers (under their title), brokers,
            // then groups under theirs.
            let bottom = |cs: &[NodeCircle]| cs.iter().map(|c| c.cy + c.r).fold(0.0, f64::max);
            let brokers_top = l.brokers.iter().map(|b| b.rect.y).fold(f64::MAX, f64::min);
            let brokers_bottom = l
                .brokers
                .iter()
                .map(|b| b.rect.y + b.rect.h)
                .fold(0.0, f64::max);
            assert!(bottom(&l.quorum) + 16.0 < l.titles.producers.y);
            assert!(l
                .producers
                .iter()
                .all(|p| l.titles.producers.y < p.cy - p.r));
            assert!(
                bottom(&l.producers) + 16.0 < brokers_top,
                "room for a producer's caption"
            );
            for g in &l.groups {
                assert!(brokers_bottom < l.titles.groups.y && l.titles.groups.y < g.rect.y);
                assert!(g.consumers.iter().all(|c| g.rect.contains(&c.rect)));
                assert!(g.rect.y + g.rect.h <= l.height());
            }
            assert!(brokers_bottom <= l.height());
        }
        // Two brokers to a row, each wide enough for labelled pills.
        let l = Layout::compute_shaped(&view_with_brokers(3, 3), false, Shape::Portrait);
        assert_eq!(l.brokers[0].rect.y, l.brokers[1].rect.y);
        assert!(l.brokers[2].rect.y > l.brokers[0].rect.y);
        assert!(l.brokers.iter().all(|b| !b.compact));
        // A producer's redirect arrow leaves from its bottom, towards the brokers.
        let (cluster, _) = presets::quickstart().run(None).unwrap();
        let l = Layout::compute_shaped(&cluster.view(), false, Shape::Portrait);
        let (p, b) = (&l.producers[0], &l.brokers[0]);
        let (from, _) = l.redirect_ends(p.node, b.id, &b.pills[0].tp).unwrap();
        assert_eq!(from, (p.cx, p.cy + p.r));
    }

    #[test]
    fn a_crowded_row_of_circles_shrinks_to_fit_without_overlapping() {
        let producers = |n: u32| (1..=n).map(|i| NodeId::Producer(kafkasim_engine::ProducerId(i)));
        for n in 1..=12 {
            let circles = row(producers(n), 100.0, 28.0, (10.0, 390.0));
            assert!(circles
                .iter()
                .all(|c| c.cx - c.r >= 10.0 && c.cx + c.r <= 390.0));
            assert!(circles
                .windows(2)
                .all(|w| w[1].cx - w[0].cx >= w[0].r + w[1].r));
        }
        // Few enough for the room: the usual size and spacing.
        let three = row(producers(3), 100.0, 28.0, (10.0, 390.0));
        assert!(three.iter().all(|c| c.r == 28.0));
        assert_eq!(three[1].cx - three[0].cx, 2.0 * 28.0 + 40.0);
    }

    #[test]
    fn anchors_point_at_the_replica_pill() {
        let (cluster, _) = presets::quickstart().run(None).unwrap();
        let view = cluster.view();
        let layout = Layout::compute(&view);
        let tp = TopicPartition::new("MyTopic", 0);
        let pill = layout.brokers[0].pills.iter().find(|p| p.tp == tp).unwrap();
        assert_eq!(
            layout.anchor(NodeId::Broker(BrokerId(1)), Some(&tp)),
            Some(pill.rect.centre())
        );
        assert!(layout
            .anchor(NodeId::Producer(kafkasim_engine::ProducerId(1)), None)
            .is_some());
    }

    #[test]
    fn redirect_arrows_run_from_the_client_edge_to_the_facing_side_of_the_replica() {
        let (cluster, _) = presets::consumer_groups().run(None).unwrap();
        let view = cluster.view();
        let layout = Layout::compute(&view);
        let b = &layout.brokers[1];
        let pill = &b.pills[0];
        let producer = NodeId::Producer(kafkasim_engine::ProducerId(1));
        let (from, to) = layout.redirect_ends(producer, b.id, &pill.tp).unwrap();
        let circle = &layout.producers[0];
        assert_eq!(from, (circle.cx + circle.r, circle.cy));
        assert_eq!(to, (pill.rect.x, pill.rect.centre().1), "the left side");
        let consumer = layout.groups[0].consumers[0].id;
        let (from, to) = layout
            .redirect_ends(NodeId::Consumer(consumer), b.id, &pill.tp)
            .unwrap();
        assert!(from.0 > to.0);
        assert_eq!(to.0, pill.rect.x + pill.rect.w, "the right side");
        assert_eq!(layout.redirect_ends(producer, BrokerId(99), &pill.tp), None);
    }

    #[test]
    fn the_canvas_ends_at_the_rightmost_thing_drawn() {
        let (cluster, _) = presets::quickstart().run(None).unwrap();
        let layout = Layout::compute(&cluster.view());
        assert!(layout.groups.is_empty());
        let right = layout
            .brokers
            .iter()
            .map(|b| b.rect.x + b.rect.w)
            .fold(0.0, f64::max);
        assert!(layout.width() < WIDTH, "no groups: narrower than {WIDTH}");
        assert!(layout.width() >= right && layout.width() >= MIN_WIDTH);
        let (mut cluster, _) = presets::consumer_groups().run(None).unwrap();
        cluster.advance(10_000);
        let layout = Layout::compute(&cluster.view());
        let groups_right = layout
            .groups
            .iter()
            .map(|g| g.rect.x + g.rect.w)
            .fold(0.0, f64::max);
        assert!(layout.width() >= groups_right && layout.width() <= WIDTH);
    }

    #[test]
    fn along_is_linear_and_clamped() {
        assert_eq!(along((0.0, 0.0), (10.0, 20.0), 0.0, 10.0, 5.0), (5.0, 10.0));
        assert_eq!(
            along((0.0, 0.0), (10.0, 20.0), 0.0, 10.0, 50.0),
            (10.0, 20.0)
        );
        assert_eq!(along((0.0, 0.0), (10.0, 20.0), 5.0, 10.0, 0.0), (0.0, 0.0));
    }

    #[test]
    fn a_zoom_shows_part_of_the_canvas_around_its_focus_and_never_past_an_edge() {
        assert_eq!(
            zoomed((1200.0, 600.0), 1.0, None),
            (0.0, 0.0, 1200.0, 600.0)
        );
        assert_eq!(
            zoomed((1200.0, 600.0), 2.0, None),
            (300.0, 150.0, 600.0, 300.0)
        );
        assert_eq!(
            zoomed((1200.0, 600.0), 2.0, Some((1150.0, 20.0))),
            (600.0, 0.0, 600.0, 300.0)
        );
        assert_eq!(next_zoom(1.0, true), 1.25);
        assert_eq!(next_zoom(3.0, true), 3.0);
        assert_eq!(next_zoom(1.0, false), 1.0);
        assert_eq!(next_zoom(1.6, false), 1.5);
    }
}
