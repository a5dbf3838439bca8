//! Geohash maths with the exact arithmetic of Redis's geo commands: a position is a 52-bit
//! score interleaving 26 bits of latitude (even bits) with 26 bits of longitude (odd bits) over
//! longitude [-180, 180] and latitude [-85.05112878, 85.05112878]; searches cover the shape with
//! the geohash box of the center and its 8 neighbours at a step estimated from the radius, and
//! test each candidate with the haversine distance on a sphere of radius 6372797.560856 m.
//! Every expression keeps Redis's operation order so results agree to the last bit.

use std::f64::consts::PI;

pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate in a stored score.
pub const STEP_MAX: u8 = 26;

const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = PI / 180.0;

#[inline]
fn deg_rad(a: f64) -> f64 {
    a * D_R
}

#[inline]
fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A geohash: `step` bits per coordinate, interleaved into `bits`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's "zero" hash, which marks a neighbour box as excluded.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The rectangle a geohash covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spreads the bits of `lat` to the even positions and those of `lon` to the odd ones.
fn interleave(lat: u32, lon: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut x = v as u64;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    }
    spread(lat) | (spread(lon) << 1)
}

/// The inverse of `interleave`: (latitude bits, longitude bits).
fn deinterleave(bits: u64) -> (u32, u32) {
    fn squash(v: u64) -> u32 {
        let mut x = v & 0x5555_5555_5555_5555;
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
        ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
    }
    (squash(bits), squash(bits >> 1))
}

/// Encodes a position over the given ranges; None outside them (or outside WGS84's).
pub fn encode(
    lon_range: Range,
    lat_range: Range,
    lon: f64,
    lat: f64,
    step: u8,
) -> Option<HashBits> {
    if step == 0 || step > 32 || !(LONG_MIN..=LONG_MAX).contains(&lon) {
        return None;
    }
    if !(LAT_MIN..=LAT_MAX).contains(&lat)
        || lat < lat_range.min
        || lat > lat_range.max
        || lon < lon_range.min
        || lon > lon_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let lon_offset = (lon - lon_range.min) / (lon_range.max - lon_range.min) * scale;
    Some(HashBits {
        bits: interleave(lat_offset as u32, lon_offset as u32),
        step,
    })
}

pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, lon, lat, step)
}

/// The area of a hash over the given ranges; None for the zero hash.
pub fn decode(lon_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let (ilat, ilon) = deinterleave(hash.bits);
    let cells = (1u64 << hash.step) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let lon_scale = lon_range.max - lon_range.min;
    // Redis adds one in 32-bit arithmetic.
    let next = |i: u32| i.wrapping_add(1) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (ilat as f64 / cells) * lat_scale,
            max: lat_range.min + (next(ilat) / cells) * lat_scale,
        },
        longitude: Range {
            min: lon_range.min + (ilon as f64 / cells) * lon_scale,
            max: lon_range.min + (next(ilon) / cells) * lon_scale,
        },
    })
}

fn decode_wgs84(hash: HashBits) -> Option<Area> {
    decode(WGS84_LONG, WGS84_LAT, hash)
}

/// The center of a hash's area, clamped to the valid ranges: (longitude, latitude).
pub fn decode_to_lon_lat(hash: HashBits) -> Option<(f64, f64)> {
    let a = decode_wgs84(hash)?;
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some((lon, lat))
}

/// C's (uint64_t) conversion of a double as x86-64 code performs it: truncation, negative
/// values wrap, values out of range give 0x8000000000000000 or 0.
fn c_double_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let cvtt = |v: f64| -> u64 {
        if !(-TWO63..TWO63).contains(&v) {
            1 << 63
        } else {
            v as i64 as u64
        }
    };
    if x < TWO63 {
        cvtt(x)
    } else {
        cvtt(x - TWO63) ^ (1 << 63)
    }
}

/// The position a sorted set score stands for (any score decodes, as in Redis).
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    decode_to_lon_lat(hash).expect("a step-26 hash always decodes")
}

/// The score a position is stored with.
pub fn encode_score(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// A hash widened to 52 bits (the smallest score inside its box).
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

/// The standard 11-character base32 geohash of a stored score (latitude over [-90, 90]).
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(WGS84_LONG, std_lat, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

/// Moves a hash one box east (+1) or west (-1): the longitude bits are the odd ones.
fn move_x(hash: &mut HashBits, d: i8) {
    let shift = 64 - hash.step as u32 * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    let x = if d > 0 {
        x.wrapping_add(zz + 1)
    } else {
        (x | zz).wrapping_sub(zz + 1)
    };
    hash.bits = (x & (0xaaaa_aaaa_aaaa_aaaa >> shift)) | y;
}

/// Moves a hash one box north (+1) or south (-1): the latitude bits are the even ones.
fn move_y(hash: &mut HashBits, d: i8) {
    let shift = 64 - hash.step as u32 * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    let y = if d > 0 {
        y.wrapping_add(zz + 1)
    } else {
        (y | zz).wrapping_sub(zz + 1)
    };
    hash.bits = x | (y & (0x5555_5555_5555_5555 >> shift));
}

fn moved(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    if dx != 0 {
        move_x(&mut h, dx);
    }
    if dy != 0 {
        move_y(&mut h, dy);
    }
    h
}

/// What a search covers: a circle of `radius` or a `width` x `height` box (both in the unit
/// `to_meters` converts from) around (lon, lat).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    /// Meters per unit of the shape's sizes and of the reported distances.
    pub to_meters: f64,
}

/// The bits of precision for boxes about `range_m` wide at latitude `lat`.
fn estimate_steps(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range_m = range_m;
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    // Boxes narrow towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

impl Search {
    /// Half height and half width in meters.
    fn half_extent_m(&self) -> (f64, f64) {
        match self.shape {
            Shape::Radius(r) => (self.to_meters * r, self.to_meters * r),
            Shape::Box { width, height } => (
                self.to_meters * (height / 2.0),
                self.to_meters * (width / 2.0),
            ),
        }
    }

    /// (min longitude, min latitude, max longitude, max latitude) of the searched area.
    fn bounding_box(&self) -> [f64; 4] {
        let (height, width) = self.half_extent_m();
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_M / deg_rad(self.lat - lat_delta).cos());
        // The wider edge is the one nearer the equator.
        let long_delta = if self.lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.lon - long_delta,
            self.lat - lat_delta,
            self.lon + long_delta,
            self.lat + lat_delta,
        ]
    }

    /// The boxes to scan, in Redis's order (center, N, S, E, W, NE, NW, SE, SW); boxes that
    /// cannot hold a match are zero hashes.
    pub fn boxes(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let radius_m = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.to_meters;
        let mut steps = estimate_steps(radius_m, self.lat);
        let center = |steps| encode_wgs84(self.lon, self.lat, steps).unwrap_or_default();
        let mut hash = center(steps);
        let area_of = |h| {
            decode_wgs84(h).unwrap_or(Area {
                longitude: Range { min: 0.0, max: 0.0 },
                latitude: Range { min: 0.0, max: 0.0 },
            })
        };
        // Step back once when a neighbour box does not reach the edge of the area.
        let too_small = area_of(moved(hash, 0, 1)).latitude.max < max_lat
            || area_of(moved(hash, 0, -1)).latitude.min > min_lat
            || area_of(moved(hash, 1, 0)).longitude.max < max_lon
            || area_of(moved(hash, -1, 0)).longitude.min > min_lon;
        if steps > 1 && too_small {
            steps -= 1;
            hash = center(steps);
        }
        let area = area_of(hash);
        let mut boxes = [
            hash,
            moved(hash, 0, 1),
            moved(hash, 0, -1),
            moved(hash, 1, 0),
            moved(hash, -1, 0),
            moved(hash, 1, 1),
            moved(hash, -1, 1),
            moved(hash, 1, -1),
            moved(hash, -1, -1),
        ];
        const N: usize = 1;
        const S: usize = 2;
        const E: usize = 3;
        const W: usize = 4;
        const NE: usize = 5;
        const NW: usize = 6;
        const SE: usize = 7;
        const SW: usize = 8;
        if steps >= 2 {
            let mut drop =
                |which: [usize; 3]| which.iter().for_each(|&i| boxes[i] = HashBits::default());
            if area.latitude.min < min_lat {
                drop([S, SW, SE]);
            }
            if area.latitude.max > max_lat {
                drop([N, NE, NW]);
            }
            if area.longitude.min < min_lon {
                drop([W, SW, NW]);
            }
            if area.longitude.max > max_lon {
                drop([E, SE, NE]);
            }
        }
        boxes
    }

    /// The distance in meters from the center to (lon, lat) if that point is inside the shape.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.to_meters).then_some(d)
            }
            Shape::Box { width, height } => {
                let (width_m, height_m) = (width * self.to_meters, height * self.to_meters);
                let lon_distance = distance(lon, lat, self.lon, lat);
                let lat_distance = distance(lon, lat, lon, self.lat);
                if lon_distance > width_m / 2.0 || lat_distance > height_m / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }
}

/// The score interval [min, max) of the members inside a box.
pub fn box_scores(hash: HashBits) -> (f64, f64) {
    let min = align52(hash);
    let max = align52(HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    });
    (min as f64, max as f64)
}

/// Great-circle distance in meters (haversine).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lat1r = deg_rad(lat1);
    let lon1r = deg_rad(lon1);
    let lat2r = deg_rad(lat2);
    let lon2r = deg_rad(lon2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_M * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

#[cfg(test)]
mod tests;
