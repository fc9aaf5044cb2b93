# Smooth a float32 NIfTI (.nii.gz) with [1,2,1]/4 along each axis, leaving voxels next to background (0) as they
# are; plain Python, no packages (bench/denoised_target.sh). Usage: smooth_nifti.py IN OUT
import gzip, struct, sys
from array import array
src, dst = sys.argv[1], sys.argv[2]
raw = gzip.open(src).read()
dims = struct.unpack('<8h', raw[40:56]); dtype = struct.unpack('<h', raw[70:72])[0]
off = int(struct.unpack('<f', raw[108:112])[0])
nx, ny, nz = dims[1], dims[2], dims[3]
assert dtype == 16, dtype
a = array('f'); a.frombytes(raw[off:off + 4 * nx * ny * nz])
def pass_axis(a, stride, n, count_outer):
    b = array('f', a)
    # index = base + i*stride along the axis; iterate bases
    for base in count_outer:
        for i in range(1, n - 1):
            p = base + i * stride
            if a[p - stride] > 0 and a[p + stride] > 0: b[p] = 0.25 * a[p - stride] + 0.5 * a[p] + 0.25 * a[p + stride]
    return b
xs = [j * nx + k * nx * ny for k in range(nz) for j in range(ny)]
a = pass_axis(a, 1, nx, xs)
ys = [i + k * nx * ny for k in range(nz) for i in range(nx)]
a = pass_axis(a, nx, ny, ys)
zs = [i + j * nx for j in range(ny) for i in range(nx)]
a = pass_axis(a, nx * ny, nz, zs)
gzip.open(dst, 'wb').write(raw[:off] + a.tobytes() + raw[off + 4 * nx * ny * nz:])
