import os
import sys

import setuptools

# pbr takes the version from git history (or from PKG-INFO in an sdist).  A
# tree exported without history (git archive, a forge's tarball) has
# neither: say what to do in one sentence instead of pbr's traceback.
_HERE = os.path.dirname(os.path.abspath(__file__))
if not (os.environ.get('PBR_VERSION')
        or os.path.exists(os.path.join(_HERE, 'PKG-INFO'))
        or os.path.exists(os.path.join(_HERE, '.git'))):
    sys.exit('iscsi-transports: this source tree has no git history, so its '
             'version is unknown: install from a git clone, or name the '
             'version, for example PBR_VERSION=0.1.0 pip install .')

setuptools.setup(setup_requires=['pbr>=6.0.0'], pbr=True)
