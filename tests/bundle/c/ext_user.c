/* pkgtwo.sub.deeper._user (acceptance 2): an extension module whose DT_NEEDED entries are
 * the extension module _core (another package folder) and libpkghelper.so.1. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

const char *core_text(void);
const char *helper_text(void);

static PyObject *user_value(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyUnicode_FromFormat("user > %s | %s", core_text(), helper_text());
}

static PyMethodDef user_methods[] = {
    {"value", user_value, METH_NOARGS, "what _core and the helper answer"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef user_module = {PyModuleDef_HEAD_INIT, "_user", NULL, -1, user_methods,
                                         NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__user(void);
PyMODINIT_FUNC PyInit__user(void)
{
    return PyModule_Create(&user_module);
}
