use super::*;
use crate::util::num::fmt_human_f64;

fn human(v: f64) -> String {
    let mut out = Vec::new();
    fmt_human_f64(v, &mut out);
    String::from_utf8(out).unwrap()
}

// Expected values are redis-server 7.0's answers (GEOADD + ZSCORE, GEOPOS, GEOHASH, GEODIST).

#[test]
fn scores_match_redis() {
    assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
    assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
    // Longitude 180 sets a 53rd bit, as in Redis.
    assert_eq!(encode_score(180.0, 85.05112878), Some(13510798882111488));
    assert_eq!(encode_score(180.1, 0.0), None);
    assert_eq!(encode_score(0.0, 85.06), None);
}

#[test]
fn positions_match_redis() {
    let (lon, lat) = decode_score(3479099956230698.0);
    assert_eq!(human(lon), "13.36138933897018433");
    assert_eq!(human(lat), "38.11555639549629859");
    let (lon, lat) = decode_score(13510798882111488.0);
    assert_eq!(
        (human(lon).as_str(), human(lat).as_str()),
        ("180", "85.0511287799999991")
    );
    // Any score decodes: negative ones wrap like C's conversion, huge ones give 0.
    let (lon, lat) = decode_score(-1.0);
    assert_eq!(
        (human(lon).as_str(), human(lat).as_str()),
        ("180", "85.0511287799999991")
    );
    let (lon, lat) = decode_score(1e300);
    assert_eq!(human(lon), "-179.99999731779098511");
    assert_eq!(human(lat), "-85.05112751263942528");
    let (lon, lat) = decode_score(1.5);
    assert_eq!(human(lon), "-179.99999731779098511");
    assert_eq!(human(lat), "-85.05112497791824921");
}

#[test]
fn geohash_strings_match_redis() {
    assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
    assert_eq!(&geohash_string(3479447370796909.0), b"sqdtr74hyu0");
    assert_eq!(&geohash_string(13510798882111488.0), b"bp05b5048p0");
    assert_eq!(&geohash_string(-1.0), b"bp05b5048p0");
    assert_eq!(&geohash_string(1.5), b"00bh0hbj210");
}

#[test]
fn distances_match_redis() {
    let (a, b) = (
        decode_score(3479099956230698.0),
        decode_score(3479447370796909.0),
    );
    let d = distance(a.0, a.1, b.0, b.1);
    assert_eq!(format!("{d:.4}"), "166274.1516");
    assert_eq!(distance(1.0, 2.0, 1.0, 2.0), 0.0);
}

#[test]
fn interleaving_round_trips() {
    let mut rng = fastrand::Rng::with_seed(9);
    for _ in 0..1000 {
        let (lat, lon) = (rng.u32(..), rng.u32(..));
        assert_eq!(deinterleave(interleave(lat, lon)), (lat, lon));
    }
    assert_eq!(interleave(1, 0), 1);
    assert_eq!(interleave(0, 1), 2);
}

#[test]
fn neighbours_are_adjacent_boxes() {
    let h = encode_wgs84(13.361389, 38.115556, 10).unwrap();
    let a = decode_wgs84(h).unwrap();
    let n = decode_wgs84(moved(h, 0, 1)).unwrap();
    let e = decode_wgs84(moved(h, 1, 0)).unwrap();
    let sw = decode_wgs84(moved(h, -1, -1)).unwrap();
    assert_eq!(n.latitude.min, a.latitude.max);
    assert_eq!(n.longitude, a.longitude);
    assert_eq!(e.longitude.min, a.longitude.max);
    assert_eq!(e.latitude, a.latitude);
    assert_eq!(sw.latitude.max, a.latitude.min);
    assert_eq!(sw.longitude.max, a.longitude.min);
    // Going east then west comes back.
    assert_eq!(moved(moved(h, 1, 0), -1, 0), h);
}

#[test]
fn searches_cover_the_shape() {
    let s = Search {
        lon: 15.0,
        lat: 37.0,
        shape: Shape::Radius(200.0),
        to_meters: 1000.0,
    };
    let boxes = s.boxes();
    // Both Sicilian cities are within 200 km and inside one of the boxes.
    for score in [3479099956230698u64, 3479447370796909] {
        let (lon, lat) = decode_score(score as f64);
        assert!(s.distance_if_within(lon, lat).is_some());
        assert!(boxes.iter().filter(|b| !b.is_zero()).any(|b| {
            let (min, max) = box_scores(*b);
            (min..max).contains(&(score as f64))
        }));
    }
    let b = Search {
        lon: 15.0,
        lat: 37.0,
        shape: Shape::Box {
            width: 400.0,
            height: 400.0,
        },
        to_meters: 1000.0,
    };
    let (lon, lat) = decode_score(3479099956230698.0);
    assert!(b.distance_if_within(lon, lat).is_some());
    assert_eq!(estimate_steps(0.0, 0.0), 26);
    assert!(estimate_steps(1000.0, 70.0) < estimate_steps(1000.0, 0.0));
}
