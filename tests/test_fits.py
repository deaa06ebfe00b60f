"""FITS frames, cubes and masks, round-tripped against astropy itself.

Files are written by astropy the way other tools write them (unsigned 16-bit through
``BZERO = 32768``, signed data, ``BSCALE``, cubes, ``CCDData`` with a ``MASK``
extension as ccdproc writes it) and read by fastdefect; what fastdefect writes is read
back by astropy. Values are compared exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastdefect import frames
from fastdefect.defects import DefectList
from fastdefect.errors import FileFormatError, InputError
from fastdefect.fits import fits_metadata, read_fits_image, write_fits
from fastdefect.formats import infer_format, read_list, read_list_file, write_list

fits = pytest.importorskip("astropy.io.fits")


@pytest.fixture()
def image() -> np.ndarray:
    rng = np.random.default_rng(11)
    data = rng.integers(0, 65536, (37, 53), dtype=np.int64).astype(np.uint16)
    data[0, 0], data[0, 1], data[0, 2] = 0, 32768, 65535  # the convention's edges
    return data


def test_unsigned_16_bit_is_exact(tmp_path, image):
    path = tmp_path / "frame.fits"
    hdu = fits.PrimaryHDU(image)
    hdu.header["EXPTIME"] = 0.25
    hdu.header["CCD-TEMP"] = -10.5
    hdu.header["GAIN"] = 1.5
    hdu.header["BAYERPAT"] = "RGGB"
    hdu.header["INSTRUME"] = "ZWO ASI294MM"
    hdu.writeto(path)
    header = fits.getheader(path)
    assert header["BITPIX"] == 16 and header["BZERO"] == 32768  # as other tools write it
    stack = frames.open_stack(path)
    assert stack.n_frames == 1 and stack.dtype == np.uint16 and stack.shape == (37, 53)
    frame = next(iter(stack))
    np.testing.assert_array_equal(frame, image)
    np.testing.assert_array_equal(frame, fits.getdata(path))  # astropy's own scaling
    assert stack.metadata == {
        "exposure_us": 250000.0,
        "temperature_c": -10.5,
        "gain": 1.5,
        "cfa": "RGGB",
        "camera_model": "ZWO ASI294MM",
    }


@pytest.mark.parametrize(
    ("stored", "bzero", "bscale"),
    [(np.int16, 0, 1), (np.int16, 100, 2), (np.int32, 0, 1), (np.int32, -5, 3), (np.uint8, 0, 1)],
)
def test_scaled_integers_are_exact(tmp_path, stored, bzero, bscale):
    rng = np.random.default_rng(abs(bzero) + bscale)
    top = 255 if stored == np.uint8 else 20000
    raw = rng.integers(2, top, (16, 24)).astype(stored)
    hdu = fits.PrimaryHDU(raw)
    hdu.header["BZERO"] = bzero
    hdu.header["BSCALE"] = bscale
    path = tmp_path / "scaled.fits"
    hdu.writeto(path)
    expected = raw.astype(np.int64) * bscale + bzero
    frame = next(iter(frames.open_stack(path)))
    assert frame.dtype == (np.uint8 if stored == np.uint8 else np.uint16)
    np.testing.assert_array_equal(frame, expected)
    np.testing.assert_array_equal(frame, fits.getdata(path))  # astropy scales in float


def test_out_of_range_values_are_refused_naming_the_frame(tmp_path):
    raw = np.zeros((2, 8, 8), np.int32)
    raw[1, 3, 4] = 70000
    fits.PrimaryHDU(raw).writeto(tmp_path / "big.fits")
    stack = frames.open_stack(tmp_path / "big.fits")
    with pytest.raises(FileFormatError, match=r"frame 2.*0 to 70000"):
        list(stack)
    fits.PrimaryHDU(np.full((4, 4), -3, np.int16)).writeto(tmp_path / "negative.fits")
    with pytest.raises(FileFormatError, match="-3"):
        list(frames.open_stack(tmp_path / "negative.fits"))


def test_cube_is_a_stack_and_a_directory_takes_fits(tmp_path, image):
    cube = np.stack([image, image // 2, image // 3])
    fits.PrimaryHDU(cube).writeto(tmp_path / "cube.fits")
    stack = frames.open_stack(tmp_path / "cube.fits")
    assert stack.n_frames == 3
    np.testing.assert_array_equal(stack.read_all(), cube)
    fits.PrimaryHDU(image).writeto(tmp_path / "b.fit")
    stack = frames.open_stack(tmp_path)
    assert stack.n_frames == 4  # b.fit, then cube.fits


def test_image_in_an_extension(tmp_path, image):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(image, name="SCI")])
    hdul.writeto(tmp_path / "ext.fits")
    np.testing.assert_array_equal(next(iter(frames.open_stack(tmp_path / "ext.fits"))), image)


def test_float_frames_are_sent_to_the_master_path(tmp_path):
    fits.PrimaryHDU(np.ones((8, 8), np.float32)).writeto(tmp_path / "float.fits")
    with pytest.raises(FileFormatError, match="--dark-master"):
        frames.open_stack(tmp_path / "float.fits")
    (tmp_path / "junk.fits").write_bytes(b"SIMPLE  = nonsense" + b"\0" * 100)
    with pytest.raises(FileFormatError, match=r"junk\.fits"):
        frames.open_stack(tmp_path / "junk.fits")
    fits.PrimaryHDU().writeto(tmp_path / "empty.fits")
    with pytest.raises(FileFormatError, match="no image"):
        frames.open_stack(tmp_path / "empty.fits")


def test_write_fits_round_trips_through_astropy(tmp_path, image):
    path = write_fits(tmp_path / "out.fits", image, header={"EXPTIME": 0.5})
    np.testing.assert_array_equal(fits.getdata(path), image)
    assert fits.getdata(path).dtype == np.uint16
    assert fits.getheader(path)["EXPTIME"] == 0.5
    with pytest.raises(Exception, match="exists"):
        write_fits(path, image)
    data, metadata = read_fits_image(path)
    np.testing.assert_array_equal(data, image)
    assert metadata == {"exposure_us": 500000.0}


def test_fits_mask_convention_and_round_trip(tmp_path):
    defects = DefectList([0, 5, 5, 30], [0, 7, 8, 52], kinds="hot")
    path = write_list(tmp_path / "mask.fits", defects, width=53, height=37)
    assert infer_format(path) == "fits-mask"
    data = fits.getdata(path)
    header = fits.getheader(path)
    assert data.dtype == np.uint8 and data.shape == (37, 53)
    assert header["MASKCONV"] == "NONZERO=DEFECTIVE" and header["NDEFECT"] == 4
    expected = np.zeros((37, 53), np.uint8)
    expected[defects.rows, defects.columns] = 1
    np.testing.assert_array_equal(data, expected)
    listed = read_list_file(path)
    assert listed.format == "fits-mask" and (listed.width, listed.height) == (53, 37)
    assert listed.defects.same_positions(defects)
    with pytest.raises(InputError, match="sensor size"):
        write_list(tmp_path / "nosize.fits", defects)
    # Replacing with backup keeps the old mask.
    write_list(path, defects.take([0]), width=53, height=37, backup=True)
    assert len(read_list(path)) == 1
    assert len(read_list(tmp_path / "mask.fits.bak", "fits-mask")) == 4


def test_ccdproc_style_mask_extension_is_read(tmp_path):
    from astropy.nddata import CCDData

    data = np.full((20, 30), 100.0, np.float32)
    mask = np.zeros((20, 30), bool)
    mask[3, 4] = mask[19, 29] = True
    CCDData(data, unit="adu", mask=mask).write(tmp_path / "ccd.fits")
    names = [hdu.name for hdu in fits.open(tmp_path / "ccd.fits")]
    assert "MASK" in names  # astropy/ccdproc's layout: image first, then the mask
    defects = read_list(tmp_path / "ccd.fits")
    assert defects.positions().tolist() == [[3, 4], [19, 29]]


def test_header_metadata_names():
    header = fits.Header()
    header["EXPOSURE"] = 2
    header["EGAIN"] = 0.8
    header["SET-TEMP"] = -20
    header["BAYERPAT"] = "nonsense"
    header["NCOMBINE"] = 25
    header["IMAGETYP"] = "Master Dark"
    assert fits_metadata(header) == {
        "exposure_us": 2e6,
        "gain": 0.8,
        "temperature_c": -20.0,
        "ncombine": 25,
        "imagetyp": "Master Dark",
    }
